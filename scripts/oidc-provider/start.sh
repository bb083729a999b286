# Sourced by scripts/js-client-check and scripts/browser-check: installs the
# test OpenID provider into target/oidc-provider (once) and starts it.
#
#   start_oidc_provider CLIENTS_JSON    sets OIDC_ISSUER and OIDC_PID
#
# CLIENTS_JSON is oidc-provider's client list, e.g.
#   [{"client_id":"app","client_secret":"s","redirect_uris":["http://localhost:3000/api/auth/callback/oidc"]}]
# The caller stops it: kill "$OIDC_PID".
start_oidc_provider() {
  local dir=target/oidc-provider
  mkdir -p "$dir"
  cp scripts/oidc-provider/package.json scripts/oidc-provider/server.mjs "$dir/"
  if [ ! -d "$dir/node_modules/oidc-provider" ]; then
    echo "installing oidc-provider into $dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund)
  fi
  local out="$dir/started.json"
  rm -f "$out"
  OIDC_CLIENTS="$1" node "$dir/server.mjs" >"$out" 2>"$dir/stderr.log" &
  OIDC_PID=$!
  for _ in $(seq 100); do
    [ -s "$out" ] && break
    sleep 0.1
  done
  OIDC_ISSUER=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).issuer)' "$out")
  export OIDC_ISSUER OIDC_PID
}

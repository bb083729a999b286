//! OpenID Connect: discovery, JWKS, and ID-token validation (signature,
//! `iss`, `aud`/`azp`, `exp`, `nbf`, `nonce`), then the userinfo endpoint for
//! claims the ID token left out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer};

use crate::fetch;
use crate::oauth::{self, Client, ClientAuth};
use crate::provider::{
    AuthorizationRequest, Callback, Identity, Provider, ProviderError, ProviderFuture,
};

/// How long discovery documents and key sets are reused.
const CACHE_FOR: Duration = Duration::from_secs(3600);
/// A key id not in the cached set refetches the set, at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(10);
/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECS: i64 = 60;

/// Sign in with any OpenID Connect provider, found from its issuer URL
/// (`<issuer>/.well-known/openid-configuration`, read on first use and kept
/// for an hour, so an app starts while its provider is down).
///
/// Register `<base URL><mount>/callback/<id>` as the client's redirect URI.
/// Requests `openid email profile`. The ID token must be signed with an
/// asymmetric algorithm by a key in the provider's JWKS, name this issuer and
/// this client, be unexpired and carry the nonce of its sign-in; anything else
/// sends the user to the error callback URL.
///
/// ```
/// use better_auth_social::{Oidc, SocialProvidersPlugin};
/// let plugin = SocialProvidersPlugin::new().provider(Oidc::new(
///     "acme",                        // provider id: /sign-in/social {provider: "acme"}
///     "https://login.acme.example",  // issuer
///     "client id",
///     "client secret",
/// ));
/// ```
pub struct Oidc {
    id: String,
    issuer: String,
    accepted_issuers: Vec<String>,
    client: Client,
    scopes: Vec<String>,
    http: reqwest::Client,
    metadata: Mutex<Option<(Arc<Metadata>, Instant)>>,
    jwks: Mutex<Option<(Arc<JwkSet>, Instant)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client", &self.client)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// A provider with id `id` (its URLs: `/callback/<id>`), at `issuer`, with
    /// a registered client's id and secret.
    pub fn new(
        id: impl Into<String>,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let issuer = issuer.into();
        Oidc {
            id: id.into(),
            accepted_issuers: vec![issuer.clone()],
            issuer,
            client: Client {
                id: client_id.into(),
                secret: client_secret.into(),
            },
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            http: fetch::http_client(),
            metadata: Mutex::new(None),
            jwks: Mutex::new(None),
        }
    }

    /// Scopes requested besides `openid email profile`.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Another spelling of the issuer that ID tokens may carry (Google's
    /// `accounts.google.com` beside `https://accounts.google.com`).
    pub(crate) fn also_accept_issuer(mut self, issuer: &str) -> Self {
        self.accepted_issuers.push(issuer.to_owned());
        self
    }

    async fn metadata(&self) -> Result<Arc<Metadata>, ProviderError> {
        if let Some((metadata, at)) = &*lock(&self.metadata) {
            if at.elapsed() < CACHE_FOR {
                return Ok(metadata.clone());
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let metadata: Metadata = fetch::json(self.http.get(&url))
            .await
            .map_err(|e| ProviderError::unavailable(format!("OpenID discovery at {url} {e}")))?;
        // OpenID Connect Discovery §4.3: the document must name this issuer.
        if metadata.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Err(ProviderError::unavailable(format!(
                "OpenID discovery names issuer `{}`, not `{}`",
                fetch::short(&metadata.issuer),
                self.issuer
            )));
        }
        // S52: endpoints are https (http only on loopback): the authorization
        // endpoint is handed to browsers, and a `javascript:` or `data:` URL
        // there would run in the app's page; the others receive the client
        // secret, codes and access tokens.
        let endpoints = [
            (
                "authorization_endpoint",
                Some(&metadata.authorization_endpoint),
            ),
            ("token_endpoint", Some(&metadata.token_endpoint)),
            ("jwks_uri", Some(&metadata.jwks_uri)),
            ("userinfo_endpoint", metadata.userinfo_endpoint.as_ref()),
        ];
        for (name, endpoint) in endpoints {
            if let Some(endpoint) = endpoint.filter(|e| !is_web_endpoint(e)) {
                return Err(ProviderError::unavailable(format!(
                    "OpenID discovery gives {name} `{}`, which is not an https URL (http is \
                     accepted on loopback only)",
                    fetch::short(endpoint)
                )));
            }
        }
        let metadata = Arc::new(metadata);
        *lock(&self.metadata) = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// The key set, refetched when older than an hour or when `kid` is not
    /// in it (keys rotate) and the set is older than a few seconds; `refetch`
    /// fetches it whatever the cache holds.
    async fn jwks(
        &self,
        metadata: &Metadata,
        kid: Option<&str>,
        refetch: bool,
    ) -> Result<Arc<JwkSet>, ProviderError> {
        if let Some((set, at)) = &*lock(&self.jwks) {
            let has_kid = kid.is_none_or(|kid| set.find(kid).is_some());
            if !refetch && at.elapsed() < CACHE_FOR && (has_kid || at.elapsed() < REFETCH_AFTER) {
                return Ok(set.clone());
            }
        }
        let set: JwkSet = fetch::json(self.http.get(&metadata.jwks_uri))
            .await
            .map_err(|e| oauth::user_info_error("JWKS", e))?;
        let set = Arc::new(set);
        *lock(&self.jwks) = Some((set.clone(), Instant::now()));
        Ok(set)
    }

    /// Validates an ID token: the signature by a key of the provider, then
    /// every claim that binds it to this sign-in.
    async fn validate(
        &self,
        metadata: &Metadata,
        token: &str,
        callback: &Callback<'_>,
    ) -> Result<IdClaims, ProviderError> {
        let invalid = |why: &str| ProviderError::user_info(format!("ID token {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("is not a JWT"))?;
        // Asymmetric algorithms only: no `none`, no HMAC keyed by the client secret.
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(invalid(&format!(
                "is signed with {:?}, which is not accepted",
                header.alg
            )));
        }
        let alg_name = format!("{:?}", header.alg);
        if !metadata.id_token_signing_alg_values_supported.is_empty()
            && !metadata
                .id_token_signing_alg_values_supported
                .contains(&alg_name)
        {
            return Err(invalid(&format!(
                "is signed with {alg_name}, which the provider does not list"
            )));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&self.accepted_issuers);
        validation.set_audience(&[&self.client.id]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
        // Times are checked below by the auth instance's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let decode = |set: &JwkSet| {
            let jwk = match header.kid.as_deref() {
                Some(kid) => set.find(kid),
                None if set.keys.len() == 1 => set.keys.first(),
                None => None,
            }
            .ok_or_else(|| invalid("is signed by a key the provider does not publish"))?;
            let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("names an unusable key"))?;
            Ok(jsonwebtoken::decode::<IdClaims>(token, &key, &validation))
        };
        let set = self.jwks(metadata, header.kid.as_deref(), false).await?;
        let mut decoded = decode(&set)?;
        // A provider may replace a key and keep its `kid`: a bad signature by
        // a known key id fetches the key set again, once, before failing.
        let bad_signature = |d: &jsonwebtoken::errors::Result<_>| matches!(d, Err(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature);
        if header.kid.is_some() && bad_signature(&decoded) {
            let fresh = self.jwks(metadata, header.kid.as_deref(), true).await?;
            decoded = decode(&fresh)?;
        }
        let claims = decoded
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::InvalidSignature => invalid("has a bad signature"),
                    ErrorKind::InvalidIssuer => invalid("was issued by someone else (iss)"),
                    ErrorKind::InvalidAudience => invalid("is for another client (aud)"),
                    ErrorKind::MissingRequiredClaim(claim) => {
                        invalid(&format!("lacks the `{claim}` claim"))
                    }
                    _ => invalid(&format!("is invalid ({e})")),
                }
            })?
            .claims;
        let now = callback.now.timestamp();
        if claims.exp + LEEWAY_SECS <= now {
            return Err(invalid("has expired (exp)"));
        }
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
            return Err(invalid("is not valid yet (nbf)"));
        }
        // OpenID Connect Core §3.1.3.7: with several audiences, azp must be us.
        let several = claims.aud.as_array().is_some_and(|a| a.len() > 1);
        match &claims.azp {
            Some(azp) if *azp != self.client.id => {
                return Err(invalid("was issued to another party (azp)"));
            }
            None if several => return Err(invalid("has several audiences and no azp")),
            _ => {}
        }
        if claims.nonce.as_deref() != Some(callback.nonce) {
            return Err(invalid("does not carry this sign-in's nonce"));
        }
        if claims.sub.is_empty() {
            return Err(invalid("has an empty subject"));
        }
        Ok(claims)
    }
}

/// S52: an endpoint a discovery document names is used only when it is an
/// absolute `https` URL, or `http` on a loopback host (a provider in
/// development or in tests).
fn is_web_endpoint(endpoint: &str) -> bool {
    let Ok(url) = url::Url::parse(endpoint) else {
        return false;
    };
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Domain(domain))) => domain.eq_ignore_ascii_case("localhost"),
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        _ => false,
    }
}

/// Algorithms an ID token may be signed with.
const ALLOWED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The parts of a discovery document used here.
#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

impl Metadata {
    /// `client_secret_basic` unless the provider lists only `client_secret_post`.
    fn client_auth(&self) -> ClientAuth {
        let methods = &self.token_endpoint_auth_methods_supported;
        if !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post")
        {
            ClientAuth::Post
        } else {
            ClientAuth::Basic
        }
    }
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    exp: i64,
    nbf: Option<i64>,
    aud: serde_json::Value,
    azp: Option<String>,
    nonce: Option<String>,
    #[serde(flatten)]
    profile: Profile,
}

/// Standard claims, from the ID token or the userinfo endpoint.
#[derive(Deserialize, Default)]
struct Profile {
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
}

#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(flatten)]
    profile: Profile,
}

/// `true` or `"true"` (some providers send strings).
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

impl Provider for Oidc {
    fn id(&self) -> &str {
        &self.id
    }

    fn issuer(&self) -> Option<&str> {
        Some(&self.issuer)
    }

    fn authorization_url<'a>(
        &'a self,
        request: AuthorizationRequest<'a>,
    ) -> ProviderFuture<'a, String> {
        Box::pin(async move {
            let metadata = self.metadata().await?;
            oauth::authorization_url(
                &metadata.authorization_endpoint,
                &self.client,
                &self.scopes,
                &request,
                true,
            )
        })
    }

    fn identify<'a>(&'a self, callback: Callback<'a>) -> ProviderFuture<'a, Identity> {
        Box::pin(async move {
            let metadata = self.metadata().await?;
            let tokens = oauth::exchange_code(
                &self.http,
                &metadata.token_endpoint,
                &self.client,
                metadata.client_auth(),
                &callback,
            )
            .await?;
            let id_token = tokens
                .id_token
                .as_deref()
                .ok_or_else(|| ProviderError::user_info("token response has no ID token"))?;
            let claims = self.validate(&metadata, id_token, &callback).await?;
            let mut profile = claims.profile;
            // Providers that conform strictly (OpenID Core §5.4) put profile
            // claims at the userinfo endpoint, not in the ID token.
            if profile.email.is_none() {
                if let Some(endpoint) = &metadata.userinfo_endpoint {
                    let access_token = tokens.access_token.as_deref().unwrap_or_default();
                    let info: UserInfo =
                        fetch::json(self.http.get(endpoint).bearer_auth(access_token))
                            .await
                            .map_err(|e| oauth::user_info_error("userinfo", e))?;
                    // OpenID Core §5.3.2: userinfo must describe the ID token's subject.
                    if info.sub != claims.sub {
                        return Err(ProviderError::user_info(
                            "userinfo describes another subject than the ID token",
                        ));
                    }
                    profile = info.profile;
                }
            }
            Ok(Identity {
                account_id: claims.sub,
                email: profile.email,
                email_verified: profile.email_verified,
                name: profile.name,
                image: profile.picture,
                scopes: tokens.scopes(),
            })
        })
    }
}

/// Sign in with Google (OpenID Connect at `https://accounts.google.com`).
///
/// Register `<base URL><mount>/callback/google` as an authorized redirect URI
/// of a Google Cloud OAuth client ("Web application").
///
/// ```
/// use better_auth_social::{Google, SocialProvidersPlugin};
/// let plugin = SocialProvidersPlugin::new()
///     .provider(Google::new("client id.apps.googleusercontent.com", "client secret"));
/// ```
#[derive(Debug)]
pub struct Google(Oidc);

impl Google {
    /// Google with a client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Google(
            Oidc::new(
                "google",
                "https://accounts.google.com",
                client_id,
                client_secret,
            )
            .also_accept_issuer("accounts.google.com"),
        )
    }

    /// Scopes requested besides `openid email profile`.
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Google(self.0.scopes(scopes))
    }
}

impl Provider for Google {
    fn id(&self) -> &str {
        self.0.id()
    }

    fn issuer(&self) -> Option<&str> {
        self.0.issuer()
    }

    fn authorization_url<'a>(
        &'a self,
        request: AuthorizationRequest<'a>,
    ) -> ProviderFuture<'a, String> {
        self.0.authorization_url(request)
    }

    fn identify<'a>(&'a self, callback: Callback<'a>) -> ProviderFuture<'a, Identity> {
        self.0.identify(callback)
    }
}

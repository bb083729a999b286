//! The relying party's checks of a WebAuthn ceremony (Web Authentication
//! Level 2, §7.1 registration and §7.2 authentication) for attestation
//! `none`: the client data, the authenticator data, the credential's COSE
//! public key, and assertion signatures (ES256, EdDSA, RS256, by ring).
//!
//! Attestation statements are not verified: like Better Auth, the plugin
//! asks for attestation `none`, so a new credential is trusted as the
//! signed-in user's on first use, and only its later signatures are proved.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value;
use ring::signature;
use serde::Deserialize;

/// Why a ceremony is refused (logged, never sent to the client).
pub(crate) type Refusal = &'static str;

/// COSE algorithms offered to authenticators, most preferred first (as
/// Better Auth offers them): EdDSA, ES256, RS256.
pub(crate) const ALGORITHMS: [i64; 3] = [-8, -7, -257];

/// Authenticator data flags (§6.1).
const USER_PRESENT: u8 = 0x01;
const BACKUP_ELIGIBLE: u8 = 0x08;
const BACKED_UP: u8 = 0x10;
const ATTESTED_CREDENTIAL: u8 = 0x40;

/// `base64url` without padding, as WebAuthn's JSON encodes bytes.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes `base64url`, with or without padding.
fn from_b64url(text: &str) -> Result<Vec<u8>, Refusal> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| "not base64url")
}

/// The client's `CollectedClientData` (§5.8.1).
#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
}

/// What the ceremony is checked against.
pub(crate) struct Expected<'a> {
    /// The challenge issued for this ceremony (base64url).
    pub(crate) challenge: &'a str,
    /// The relying party id (the base URL's host).
    pub(crate) rp_id: &'a str,
    /// Whether an origin may run the ceremony (the app's trusted origins).
    pub(crate) origin_ok: &'a (dyn Fn(&str) -> bool + Sync),
}

/// Checks `clientDataJSON` (§7.1 steps 5–10, §7.2 steps 10–14) and returns
/// its bytes, whose SHA-256 the authenticator signed.
fn check_client_data(
    encoded: &str,
    kind: &str,
    expected: &Expected<'_>,
) -> Result<Vec<u8>, Refusal> {
    let bytes = from_b64url(encoded)?;
    let data: ClientData = serde_json::from_slice(&bytes).map_err(|_| "bad client data")?;
    if data.kind != kind {
        return Err("wrong ceremony type");
    }
    // Not secret (the browser was given it), single use: a plain comparison.
    if data.challenge != expected.challenge {
        return Err("wrong challenge");
    }
    if !(expected.origin_ok)(&data.origin) {
        return Err("untrusted origin");
    }
    Ok(bytes)
}

/// The parts of authenticator data (§6.1) the checks read.
struct AuthenticatorData<'a> {
    flags: u8,
    counter: u32,
    /// With [`ATTESTED_CREDENTIAL`]: AAGUID, credential id, COSE key bytes.
    credential: Option<([u8; 16], &'a [u8], &'a [u8])>,
}

fn parse_authenticator_data<'a>(
    data: &'a [u8],
    rp_id: &str,
) -> Result<AuthenticatorData<'a>, Refusal> {
    if data.len() < 37 {
        return Err("authenticator data too short");
    }
    let rp_hash = ring::digest::digest(&ring::digest::SHA256, rp_id.as_bytes());
    if data[..32] != *rp_hash.as_ref() {
        return Err("wrong relying party");
    }
    let flags = data[32];
    if flags & USER_PRESENT == 0 {
        return Err("user not present");
    }
    let counter = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    let credential = if flags & ATTESTED_CREDENTIAL != 0 {
        let rest = &data[37..];
        if rest.len() < 18 {
            return Err("attested credential data too short");
        }
        let aaguid: [u8; 16] = rest[..16].try_into().map_err(|_| "bad aaguid")?;
        let id_len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let rest = &rest[18..];
        if rest.len() < id_len || id_len == 0 || id_len > 1023 {
            return Err("bad credential id");
        }
        let (id, mut key) = rest.split_at(id_len);
        let before = key.len();
        // The COSE key is one CBOR item; extensions may follow it.
        let _: Value = ciborium::from_reader(&mut key).map_err(|_| "bad public key")?;
        let key_bytes = &rest[id_len..id_len + (before - key.len())];
        Some((aaguid, id, key_bytes))
    } else {
        None
    };
    Ok(AuthenticatorData {
        flags,
        counter,
        credential,
    })
}

/// A credential public key (COSE, RFC 9053) ring can verify with.
enum PublicKey {
    Es256(Vec<u8>),
    Ed25519(Vec<u8>),
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

fn cose_bytes(map: &[(Value, Value)], label: i64) -> Option<Vec<u8>> {
    map.iter().find_map(|(k, v)| match (k, v) {
        (Value::Integer(k), Value::Bytes(b)) if i128::from(*k) == i128::from(label) => {
            Some(b.clone())
        }
        _ => None,
    })
}

fn cose_int(map: &[(Value, Value)], label: i64) -> Option<i128> {
    map.iter().find_map(|(k, v)| match (k, v) {
        (Value::Integer(k), Value::Integer(v)) if i128::from(*k) == i128::from(label) => {
            Some(i128::from(*v))
        }
        _ => None,
    })
}

fn parse_public_key(cose: &[u8]) -> Result<PublicKey, Refusal> {
    let value: Value = ciborium::from_reader(cose).map_err(|_| "bad public key")?;
    let Value::Map(map) = value else {
        return Err("public key is not a COSE key");
    };
    let (kty, alg) = (cose_int(&map, 1), cose_int(&map, 3));
    match (kty, alg) {
        (Some(2), Some(-7)) => {
            let (x, y) = (cose_bytes(&map, -2), cose_bytes(&map, -3));
            match (cose_int(&map, -1), x, y) {
                (Some(1), Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                    let mut point = Vec::with_capacity(65);
                    point.push(0x04);
                    point.extend_from_slice(&x);
                    point.extend_from_slice(&y);
                    Ok(PublicKey::Es256(point))
                }
                _ => Err("bad P-256 key"),
            }
        }
        (Some(1), Some(-8)) => match (cose_int(&map, -1), cose_bytes(&map, -2)) {
            (Some(6), Some(x)) if x.len() == 32 => Ok(PublicKey::Ed25519(x)),
            _ => Err("bad Ed25519 key"),
        },
        (Some(3), Some(-257)) => match (cose_bytes(&map, -1), cose_bytes(&map, -2)) {
            (Some(n), Some(e)) if n.len() >= 256 => Ok(PublicKey::Rs256 { n, e }),
            _ => Err("bad RSA key"),
        },
        _ => Err("unsupported key algorithm"),
    }
}

impl PublicKey {
    fn verify(&self, message: &[u8], sig: &[u8]) -> Result<(), Refusal> {
        let result = match self {
            PublicKey::Es256(point) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
                    .verify(message, sig)
            }
            PublicKey::Ed25519(key) => {
                signature::UnparsedPublicKey::new(&signature::ED25519, key).verify(message, sig)
            }
            PublicKey::Rs256 { n, e } => signature::RsaPublicKeyComponents { n, e }.verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                message,
                sig,
            ),
        };
        result.map_err(|_| "bad signature")
    }
}

/// `AuthenticatorAttestationResponseJSON`'s fields the checks read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttestationResponse {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    attestation_object: String,
    #[serde(default)]
    pub(crate) transports: Vec<String>,
}

/// `RegistrationResponseJSON`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegistrationResponse {
    pub(crate) id: String,
    raw_id: String,
    pub(crate) response: AttestationResponse,
    #[serde(rename = "type")]
    kind: String,
}

/// A credential a registration proved.
#[derive(Debug)]
pub(crate) struct NewCredential {
    /// base64url.
    pub(crate) id: String,
    /// The COSE key, as the authenticator sent it.
    pub(crate) public_key: Vec<u8>,
    pub(crate) counter: u32,
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    pub(crate) aaguid: String,
    /// `multiDevice` (may be synced) or `singleDevice`.
    pub(crate) device_type: &'static str,
    pub(crate) backed_up: bool,
}

fn uuid(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// §7.1: a registration answering `expected`, for attestation `none`.
pub(crate) fn verify_registration(
    response: &RegistrationResponse,
    expected: &Expected<'_>,
) -> Result<NewCredential, Refusal> {
    if response.kind != "public-key" || response.id != response.raw_id {
        return Err("not a public-key credential");
    }
    check_client_data(
        &response.response.client_data_json,
        "webauthn.create",
        expected,
    )?;
    let object = from_b64url(&response.response.attestation_object)?;
    let Value::Map(object) = ciborium::from_reader::<Value, _>(object.as_slice())
        .map_err(|_| "bad attestation object")?
    else {
        return Err("bad attestation object");
    };
    let auth_data = object
        .iter()
        .find_map(|(k, v)| match (k, v) {
            (Value::Text(k), Value::Bytes(v)) if k == "authData" => Some(v.as_slice()),
            _ => None,
        })
        .ok_or("no authenticator data")?;
    let data = parse_authenticator_data(auth_data, expected.rp_id)?;
    let (aaguid, id, key) = data.credential.ok_or("no attested credential")?;
    if b64url(id) != response.id {
        return Err("credential id mismatch");
    }
    parse_public_key(key)?;
    Ok(NewCredential {
        id: response.id.clone(),
        public_key: key.to_vec(),
        counter: data.counter,
        aaguid: uuid(&aaguid),
        device_type: if data.flags & BACKUP_ELIGIBLE != 0 {
            "multiDevice"
        } else {
            "singleDevice"
        },
        backed_up: data.flags & BACKED_UP != 0,
    })
}

/// `AuthenticatorAssertionResponseJSON`'s fields the checks read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssertionResponse {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    authenticator_data: String,
    signature: String,
}

/// `AuthenticationResponseJSON`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthenticationResponse {
    pub(crate) id: String,
    raw_id: String,
    response: AssertionResponse,
    #[serde(rename = "type")]
    kind: String,
}

/// §7.2: an assertion by the stored credential (`public_key`, COSE) answering
/// `expected`; returns the authenticator's new signature counter. A counter
/// that did not move past `stored_counter` (when either is not zero) means a
/// cloned authenticator and is refused.
pub(crate) fn verify_authentication(
    response: &AuthenticationResponse,
    expected: &Expected<'_>,
    public_key: &[u8],
    stored_counter: u32,
) -> Result<u32, Refusal> {
    if response.kind != "public-key" || response.id != response.raw_id {
        return Err("not a public-key credential");
    }
    let client_data = check_client_data(
        &response.response.client_data_json,
        "webauthn.get",
        expected,
    )?;
    let auth_data = from_b64url(&response.response.authenticator_data)?;
    let data = parse_authenticator_data(&auth_data, expected.rp_id)?;
    let key = parse_public_key(public_key)?;
    let mut signed = auth_data.clone();
    signed.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, &client_data).as_ref());
    key.verify(&signed, &from_b64url(&response.response.signature)?)?;
    if (data.counter > 0 || stored_counter > 0) && data.counter <= stored_counter {
        return Err("signature counter did not increase");
    }
    Ok(data.counter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticator_data_is_bound_to_the_relying_party_and_presence() {
        let mut data = ring::digest::digest(&ring::digest::SHA256, b"localhost")
            .as_ref()
            .to_vec();
        data.extend_from_slice(&[USER_PRESENT, 0, 0, 0, 7]);
        let parsed = parse_authenticator_data(&data, "localhost").unwrap();
        assert_eq!(parsed.counter, 7);
        assert!(parsed.credential.is_none());
        assert!(parse_authenticator_data(&data, "example.com").is_err());
        data[32] = 0;
        assert_eq!(
            parse_authenticator_data(&data, "localhost").err(),
            Some("user not present")
        );
        assert!(parse_authenticator_data(&data[..20], "localhost").is_err());
    }

    #[test]
    fn unsupported_keys_are_refused() {
        let mut key = Vec::new();
        let map = Value::Map(vec![
            (Value::Integer(1.into()), Value::Integer(2.into())),
            (Value::Integer(3.into()), Value::Integer((-35).into())),
        ]);
        ciborium::into_writer(&map, &mut key).unwrap();
        assert_eq!(
            parse_public_key(&key).err(),
            Some("unsupported key algorithm")
        );
        assert!(parse_public_key(b"\xff").is_err());
    }

    #[test]
    fn aaguids_read_as_uuids() {
        assert_eq!(uuid(&[0; 16]), "00000000-0000-0000-0000-000000000000");
        let bytes: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(uuid(&bytes), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    }
}

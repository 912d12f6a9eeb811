//! SD-JWT VC fixtures for a wallet backend's (or a verifier's) tests: an issuer that issues
//! SD-JWT VCs ([`TestVcIssuer`]) and a holder that builds presentations with a Key Binding
//! JWT ([`TestWallet`]), through idforge-sd-jwt's public API (the production code paths).
//!
//! Determinism: salts and decoy digests come from a ChaCha20 RNG seeded by the caller, key
//! binding `iat` from the `now` the test passes, and the keys are fixed published test keys
//! (or the caller's). With [`TestAlgorithm::EdDSA`] the whole output is byte-identical for the
//! same seed and inputs (Ed25519 signatures are deterministic, RFC 8032 §5.1.6). With
//! [`TestAlgorithm::ES256`] everything but the signatures is: ECDSA signatures are randomized
//! (a fresh nonce per signature), so the issuer-signed JWT's and the KB-JWT's third segment
//! differ run to run while the payload, the Disclosures and `sd_hash` inputs do not.
//!
//! The fixed keys in this module are published test material: never trust them anywhere.

use std::sync::Mutex;

use idforge_jose::{FixedClock, Jwk, JwkSet, JwsAlgorithm, Key, LocalSigner};
use idforge_sd_jwt::{
    ClaimPath, Credential, Issuance, IssuerConfig, KeyBindingInput, Limits, Result, VcIssuer,
    VcPolicy, VcVerifier, VerifiedVc, VerifierConfig,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{Map, Value};

/// The RFC 9901 Appendix A.5 issuer key (P-256).
const ES256_ISSUER: &str = r#"{"kty":"EC","d":"Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#;
/// The RFC 9901 Appendix A.5 holder key (P-256).
const ES256_HOLDER: &str = r#"{"kty":"EC","d":"5K5SCos8zf9zRemGGUl6yfok-_NiiryNZsvANWMhF-I","crv":"P-256","x":"TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc","y":"ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}"#;
/// The RFC 8037 Appendix A.1 Ed25519 key.
const EDDSA_ISSUER: &str = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
/// The RFC 8032 §7.1 TEST 2 Ed25519 key.
const EDDSA_HOLDER: &str = r#"{"kty":"OKP","crv":"Ed25519","d":"TM0Imyj_ltqdtsNG7BFOD1uKMZ81q6Yk2oz27U-4pvs","x":"PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw"}"#;

/// The signature algorithm of the fixed test keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestAlgorithm {
    /// Ed25519 (RFC 8037): deterministic signatures, so byte-identical output for a seed.
    EdDSA,
    /// ECDSA P-256 (RFC 7518 §3.4): the algorithm most wallets use; signatures are randomized.
    ES256,
}

impl TestAlgorithm {
    /// The JOSE algorithm.
    pub fn jws(self) -> JwsAlgorithm {
        match self {
            TestAlgorithm::EdDSA => JwsAlgorithm::EdDSA,
            TestAlgorithm::ES256 => JwsAlgorithm::ES256,
        }
    }

    /// Whether two signatures over the same input with the same key are byte-identical.
    pub fn is_deterministic(self) -> bool {
        matches!(self, TestAlgorithm::EdDSA)
    }

    fn fixed(self, holder: bool) -> Result<Key> {
        let jwk = match (self, holder) {
            (TestAlgorithm::EdDSA, false) => EDDSA_ISSUER,
            (TestAlgorithm::EdDSA, true) => EDDSA_HOLDER,
            (TestAlgorithm::ES256, false) => ES256_ISSUER,
            (TestAlgorithm::ES256, true) => ES256_HOLDER,
        };
        Ok(Key::from_json(jwk)?)
    }
}

fn public(key: &Key) -> Result<Key> {
    key.to_public()
        .ok_or_else(|| idforge_jose::Error::InvalidKey("not an asymmetric key".into()).into())
}

/// An SD-JWT VC issuer for tests: a signing key, the `iss` it writes, and a seeded RNG for
/// salts and decoys.
#[derive(Debug)]
pub struct TestVcIssuer {
    iss: String,
    signer: LocalSigner,
    public: Key,
    issuer: VcIssuer,
    rng: Mutex<ChaCha20Rng>,
}

impl TestVcIssuer {
    /// An issuer `iss` with the fixed key for `alg`, salts seeded with `seed`.
    pub fn fixed(iss: &str, alg: TestAlgorithm, seed: u64) -> Result<Self> {
        Self::with_key(iss, alg.fixed(false)?, alg.jws(), seed)
    }

    /// An issuer `iss` with your own private key and algorithm.
    pub fn with_key(iss: &str, key: Key, alg: JwsAlgorithm, seed: u64) -> Result<Self> {
        let public = public(&key)?;
        Ok(TestVcIssuer {
            iss: iss.to_owned(),
            signer: LocalSigner::new(key, alg)?,
            public,
            issuer: VcIssuer::default(),
            rng: Mutex::new(ChaCha20Rng::seed_from_u64(seed)),
        })
    }

    /// Issues with this SD-JWT issuer configuration (hash algorithm, decoys, serialization).
    pub fn with_config(mut self, config: IssuerConfig) -> Self {
        self.issuer = VcIssuer::new(config);
        self
    }

    /// The `iss` value.
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The public key a verifier trusts (as [`idforge_sd_jwt::IssuerKeyResolver`]).
    pub fn public_key(&self) -> &Key {
        &self.public
    }

    /// The JWK Set to serve as the issuer's keys (JWT VC Issuer Metadata `jwks`).
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.public.public_jwk().into_iter().collect(),
        }
    }

    /// Issues an SD-JWT VC of type `vct` with `claims` (`iss` and `vct` are added), each
    /// JSON Pointer in `disclose` selectively disclosable (RFC 9901 §4.2), bound to `holder`
    /// (`cnf.jwk`, RFC 7800) when given.
    pub fn issue(
        &self,
        vct: &str,
        claims: Map<String, Value>,
        disclose: &[&str],
        holder: Option<Jwk>,
    ) -> Result<String> {
        let mut claims = claims;
        claims.insert("iss".into(), self.iss.clone().into());
        claims.insert("vct".into(), vct.into());
        let mut issuance = Issuance::new(claims).disclose(disclose.iter().copied())?;
        if let Some(jwk) = holder {
            issuance = issuance.holder_key(jwk);
        }
        self.issue_issuance(&issuance)
    }

    /// Issues any [`Issuance`] (full control over claims, paths and headers), after the
    /// SD-JWT VC checks of [`VcIssuer`].
    pub fn issue_issuance(&self, issuance: &Issuance) -> Result<String> {
        let mut rng = match self.rng.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.issuer.issue(issuance, &self.signer, &mut *rng)
    }

    /// Verifies `presentation` as a verifier expecting key binding to `audience` and `nonce`
    /// at `now`: the check a wallet test uses to prove its presentation is acceptable.
    pub fn verify_presentation(
        &self,
        presentation: &str,
        audience: &str,
        nonce: &str,
        now: i64,
    ) -> Result<VerifiedVc> {
        let verifier = VcVerifier::new(
            VerifierConfig::default().require_key_binding(audience, nonce),
            VcPolicy::default(),
        );
        verifier.verify(presentation, &self.public, &FixedClock::new(now))
    }
}

/// A holder (wallet) for tests: a key-binding key that builds presentations.
#[derive(Debug)]
pub struct TestWallet {
    signer: LocalSigner,
    public: Key,
}

impl TestWallet {
    /// A wallet with the fixed holder key for `alg`.
    pub fn fixed(alg: TestAlgorithm) -> Result<Self> {
        Self::with_key(alg.fixed(true)?, alg.jws())
    }

    /// A wallet with your own private key and algorithm.
    pub fn with_key(key: Key, alg: JwsAlgorithm) -> Result<Self> {
        let public = public(&key)?;
        Ok(TestWallet {
            signer: LocalSigner::new(key, alg)?,
            public,
        })
    }

    /// The public JWK an issuer binds credentials to (`cnf.jwk`).
    pub fn holder_jwk(&self) -> Jwk {
        self.public.jwk().clone()
    }

    /// The claims of `sd_jwt` a presentation may disclose, as JSON Pointers.
    pub fn disclosable(&self, sd_jwt: &str) -> Result<Vec<String>> {
        let credential = Credential::parse(sd_jwt, &Limits::default())?;
        Ok(credential
            .disclosable()
            .iter()
            .map(|d| d.path.to_string())
            .collect())
    }

    /// A presentation of `sd_jwt` disclosing `disclose` (JSON Pointers; ancestors follow) with
    /// a KB-JWT (RFC 9901 §4.3: `typ: kb+jwt`, `aud`, `nonce`, `iat = now`, `sd_hash`).
    pub fn present(
        &self,
        sd_jwt: &str,
        disclose: &[&str],
        audience: &str,
        nonce: &str,
        now: i64,
    ) -> Result<String> {
        let credential = Credential::parse(sd_jwt, &Limits::default())?;
        let paths = disclose
            .iter()
            .map(|p| ClaimPath::parse(p))
            .collect::<Result<Vec<_>>>()?;
        credential.present_with_key_binding(
            &paths,
            &KeyBindingInput::new(audience, nonce),
            &self.signer,
            &FixedClock::new(now),
        )
    }

    /// A presentation without key binding (for verifiers that do not require it, and for
    /// the negative test "key binding required but missing").
    pub fn present_unbound(&self, sd_jwt: &str, disclose: &[&str]) -> Result<String> {
        let credential = Credential::parse(sd_jwt, &Limits::default())?;
        let paths = disclose
            .iter()
            .map(|p| ClaimPath::parse(p))
            .collect::<Result<Vec<_>>>()?;
        credential.present(&paths)
    }
}

//! Sealed form values: a pending request travels in a hidden form field as base64url JSON with an
//! expiry, MACed (HMAC-SHA-256) under a key together with its purpose, so it cannot be altered,
//! replayed after it expires, or used as a value of another form. Each sealed value carries a
//! random id; [`Sealer::open_once`] records it until the value expires, so a form (the login
//! form's pending request) is accepted at most once.
//!
//! In memory the key is drawn per process and the ids are remembered in the process. Under
//! `--database` the key is derived from a secret drawn once and kept in the database
//! (`storage::Stores::sealer`), and the ids are recorded there ([`SpentLedger`]), so a form
//! served by one process is accepted once by any of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use idforge_jose::crypto::{ct_eq, hmac, random_bytes, HashAlg};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// How long a sealed form value stays valid by default, in seconds.
pub(crate) const SEAL_TTL: i64 = 600;

/// Most ids of opened values remembered at once (each until its value expires); past it an
/// `open_once` fails closed (the user reloads the form).
const MAX_SPENT: usize = 1_000_000;

/// What a sealed value is for; a value sealed for one purpose never opens for another.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    /// The login form's pending authorization request.
    Login,
    /// The consent form's pending request and session.
    Consent,
    /// The session cookie's `sid` (with a fresh nonce per login).
    Session,
    /// The logout confirmation form's pending end-session request.
    Logout,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Login => b"idforge-server login\0",
            Purpose::Consent => b"idforge-server consent\0",
            Purpose::Session => b"idforge-server session\0",
            Purpose::Logout => b"idforge-server logout\0",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: i64,
    /// A random id (base64url of 16 bytes): what [`Sealer::open_once`] remembers.
    #[serde(default)]
    id: String,
    value: T,
}

/// Where the ids of values opened with [`Sealer::open_once`] are recorded when several
/// processes share a sealing key.
pub(crate) trait SpentLedger: Send + Sync {
    /// Records `id` until `exp`, atomically; `false` when it was recorded already, or could not
    /// be recorded (failing closed: the user reloads the form).
    fn spend(&self, id: &str, exp: i64, now: i64) -> bool;
}

/// Ids of values opened with [`Sealer::open_once`].
enum Spent {
    /// In this process, with their expiry.
    Local(Mutex<HashMap<String, i64>>),
    /// Shared by the processes sharing the key.
    Shared(Arc<dyn SpentLedger>),
}

/// Seals and opens form values with one key.
pub(crate) struct Sealer {
    key: [u8; 32],
    ttl: i64,
    spent: Spent,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer with a fresh random key; `None` when the random source fails (tests: the
    /// server asks `Stores::sealer`, which shares the key under `--database`).
    #[cfg(test)]
    pub(crate) fn random() -> Option<Sealer> {
        Sealer::with_ttl(SEAL_TTL)
    }

    /// A sealer with a fresh random key whose values live `ttl` seconds.
    pub(crate) fn with_ttl(ttl: i64) -> Option<Sealer> {
        let mut key = [0u8; 32];
        random_bytes(&mut key).ok()?;
        Some(Sealer {
            key,
            ttl,
            spent: Spent::Local(Mutex::default()),
        })
    }

    /// A sealer with `key` (shared by several processes) whose values live `ttl` seconds and
    /// whose opened ids `ledger` records.
    pub(crate) fn shared(key: [u8; 32], ttl: i64, ledger: Arc<dyn SpentLedger>) -> Sealer {
        Sealer {
            key,
            ttl,
            spent: Spent::Shared(ledger),
        }
    }

    fn mac(&self, purpose: Purpose, body: &str) -> Option<Vec<u8>> {
        let mut input = purpose.label().to_vec();
        input.extend_from_slice(body.as_bytes());
        hmac(HashAlg::Sha256, &self.key, &input).ok()
    }

    /// `BODY.MAC`, both base64url; valid until `now` plus the sealer's lifetime. `None` only if
    /// the value cannot be serialized, the MAC computed or the random id drawn.
    pub(crate) fn seal<T: Serialize>(
        &self,
        purpose: Purpose,
        value: &T,
        now: i64,
    ) -> Option<String> {
        self.seal_for(purpose, value, now, self.ttl)
    }

    /// [`seal`](Self::seal) valid for `ttl` seconds (the session cookie outlives a form).
    pub(crate) fn seal_for<T: Serialize>(
        &self,
        purpose: Purpose,
        value: &T,
        now: i64,
        ttl: i64,
    ) -> Option<String> {
        let mut id = [0u8; 16];
        random_bytes(&mut id).ok()?;
        let json = serde_json::to_vec(&Envelope {
            exp: now.saturating_add(ttl),
            id: idforge_jose::b64::encode(id),
            value,
        })
        .ok()?;
        let body = idforge_jose::b64::encode(json);
        let mac = self.mac(purpose, &body)?;
        Some(format!("{body}.{}", idforge_jose::b64::encode(mac)))
    }

    /// The value, if `sealed` was sealed by this sealer for `purpose` and has not expired.
    pub(crate) fn open<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        sealed: &str,
        now: i64,
    ) -> Option<T> {
        self.envelope(purpose, sealed, now).map(|e| e.value)
    }

    fn envelope<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        sealed: &str,
        now: i64,
    ) -> Option<Envelope<T>> {
        let (body, mac) = sealed.split_once('.')?;
        let mac = idforge_jose::b64::decode(mac, "mac").ok()?;
        if !ct_eq(&self.mac(purpose, body)?, &mac) {
            return None;
        }
        let json = idforge_jose::b64::decode(body, "sealed").ok()?;
        let envelope: Envelope<T> = serde_json::from_slice(&json).ok()?;
        (now < envelope.exp).then_some(envelope)
    }

    /// [`Sealer::open`], at most once per sealed value: the value's id is remembered until it
    /// expires, and a second opening (a replayed form) is `None`. Atomic: of concurrent
    /// openings of one value, exactly one succeeds.
    pub(crate) fn open_once<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        sealed: &str,
        now: i64,
    ) -> Option<T> {
        let envelope = self.envelope::<T>(purpose, sealed, now)?;
        if envelope.id.is_empty() {
            return None;
        }
        let spent = match &self.spent {
            Spent::Shared(ledger) => {
                return ledger
                    .spend(&envelope.id, envelope.exp, now)
                    .then_some(envelope.value);
            }
            Spent::Local(spent) => spent,
        };
        let mut spent = spent.lock().unwrap_or_else(|e| e.into_inner());
        if spent.len() >= MAX_SPENT {
            spent.retain(|_, exp| now < *exp);
            if spent.len() >= MAX_SPENT {
                return None;
            }
        }
        if spent.insert(envelope.id, envelope.exp).is_some() {
            return None;
        }
        Some(envelope.value)
    }

    /// Whether `value` has the shape of a sealed value (exactly one `.`), as opposed to a
    /// request object (a JWS or JWE has two or four).
    pub(crate) fn looks_sealed(value: &str) -> bool {
        value.bytes().filter(|b| *b == b'.').count() == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let s = Sealer::random().unwrap();
        let sealed = s.seal(Purpose::Login, &"pending", 1_000).unwrap();
        assert!(Sealer::looks_sealed(&sealed));
        assert_eq!(
            s.open::<String>(Purpose::Login, &sealed, 1_000).as_deref(),
            Some("pending")
        );
        // Another purpose, another key, expiry, tampering.
        assert_eq!(s.open::<String>(Purpose::Consent, &sealed, 1_000), None);
        let other = Sealer::random().unwrap();
        assert_eq!(other.open::<String>(Purpose::Login, &sealed, 1_000), None);
        assert_eq!(
            s.open::<String>(Purpose::Login, &sealed, 1_000 + SEAL_TTL),
            None
        );
        let (body, mac) = sealed.split_once('.').unwrap();
        let forged = idforge_jose::b64::encode(br#"{"exp":99999999999,"value":"other"}"#);
        assert_eq!(
            s.open::<String>(Purpose::Login, &format!("{forged}.{mac}"), 1_000),
            None
        );
        assert_eq!(
            s.open::<String>(Purpose::Login, &format!("{body}.{body}"), 1_000),
            None
        );
        assert_eq!(s.open::<String>(Purpose::Login, "garbage", 1_000), None);
    }

    #[test]
    fn open_once_accepts_a_value_once_and_honours_the_lifetime() {
        let s = Sealer::with_ttl(60).unwrap();
        let sealed = s.seal(Purpose::Login, &"pending", 1_000).unwrap();
        assert_eq!(
            s.open_once::<String>(Purpose::Login, &sealed, 1_000)
                .as_deref(),
            Some("pending")
        );
        assert_eq!(s.open_once::<String>(Purpose::Login, &sealed, 1_001), None);
        let fresh = s.seal(Purpose::Login, &"pending", 1_000).unwrap();
        assert_ne!(fresh, sealed, "every sealing has its own id");
        assert_eq!(s.open_once::<String>(Purpose::Login, &fresh, 1_060), None);
        assert!(s
            .open_once::<String>(Purpose::Login, &fresh, 1_059)
            .is_some());
    }

    #[test]
    fn concurrent_openings_of_one_value_succeed_exactly_once() {
        let s = std::sync::Arc::new(Sealer::random().unwrap());
        let sealed = std::sync::Arc::new(s.seal(Purpose::Login, &"pending", 1_000).unwrap());
        let handles: Vec<_> = (0..128)
            .map(|_| {
                let (s, sealed) = (s.clone(), sealed.clone());
                std::thread::spawn(move || {
                    s.open_once::<String>(Purpose::Login, &sealed, 1_000)
                        .is_some()
                })
            })
            .collect();
        let won = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(won, 1);
    }

    #[test]
    fn request_objects_do_not_look_sealed() {
        assert!(!Sealer::looks_sealed("eyJh.eyJi.c2ln"));
        assert!(!Sealer::looks_sealed("a.b.c.d.e"));
        assert!(!Sealer::looks_sealed("plain"));
    }

    /// A ledger in memory standing for the database's.
    #[derive(Default)]
    struct Ledger(Mutex<HashMap<String, i64>>);

    impl SpentLedger for Ledger {
        fn spend(&self, id: &str, exp: i64, _now: i64) -> bool {
            self.0.lock().unwrap().insert(id.to_owned(), exp).is_none()
        }
    }

    #[test]
    fn sealers_sharing_a_key_and_ledger_open_a_value_once_between_them() {
        let ledger: Arc<dyn SpentLedger> = Arc::new(Ledger::default());
        let a = Sealer::shared([7; 32], SEAL_TTL, ledger.clone());
        let b = Sealer::shared([7; 32], SEAL_TTL, ledger);
        let sealed = a.seal(Purpose::Login, &"pending", 1_000).unwrap();
        // Served by one process, posted to the other: accepted once, by either.
        assert_eq!(
            b.open_once::<String>(Purpose::Login, &sealed, 1_001)
                .as_deref(),
            Some("pending")
        );
        assert_eq!(a.open_once::<String>(Purpose::Login, &sealed, 1_002), None);
        assert_eq!(b.open_once::<String>(Purpose::Login, &sealed, 1_002), None);
        // Another key does not open it.
        let other = Sealer::shared([8; 32], SEAL_TTL, Arc::new(Ledger::default()));
        assert_eq!(other.open::<String>(Purpose::Login, &sealed, 1_001), None);
    }
}

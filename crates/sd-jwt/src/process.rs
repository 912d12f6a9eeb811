//! Digest resolution: RFC 9901 §7.1 step 3, shared by the holder and the verifier.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::disclosure::Disclosure;
use crate::hash::{truncate, SdAlg};
use crate::pointer::ClaimPath;
use crate::{Error, Result};

/// A claim that a Disclosure revealed.
#[derive(Debug, Clone, PartialEq)]
pub struct DisclosedClaim {
    /// Where the claim sits in the processed payload (RFC 6901 JSON Pointer). For array
    /// elements, the index is the position in the processed array.
    pub path: ClaimPath,
    /// The Disclosure string as received.
    pub disclosure: String,
    /// The claim name; `None` for an array element.
    pub name: Option<String>,
    /// The processed value (nested digests resolved).
    pub value: Value,
    /// The index (in the same list) of the Disclosure whose value contains this claim, when it
    /// was disclosed recursively (RFC 9901 §4.2.6); `None` when its digest is in the
    /// Issuer-signed JWT itself.
    pub parent: Option<usize>,
}

/// Output of [`process`].
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The Processed SD-JWT Payload: digests replaced, `_sd`, `_sd_alg` and undisclosed array
    /// elements removed.
    pub claims: Map<String, Value>,
    /// The claims that were disclosed, in the order they were found.
    pub disclosed: Vec<DisclosedClaim>,
}

struct Ctx {
    /// Owned so each referenced Disclosure's value and text can be moved out, not copied
    /// (each is used at most once: a second reference is a duplicate digest).
    disclosures: Vec<Disclosure>,
    by_digest: HashMap<String, usize>,
    used: Vec<bool>,
    /// Every digest met so far, moved out of the payload (no copies).
    seen: std::collections::HashSet<String>,
    disclosed: Vec<DisclosedClaim>,
    max_depth: usize,
}

/// Applies RFC 9901 §7.1 step 3 to `payload` with `disclosures` hashed under `alg`.
///
/// Rejections, each a typed [`Error`]:
/// - a digest seen twice, in the payload or in disclosed values (§7.1 step 3.4) → `DuplicateDigest`;
/// - the same Disclosure sent twice → `DuplicateDisclosure`;
/// - a Disclosure no digest refers to (§7.1 step 3.5) → `UnreferencedDisclosure`;
/// - an array-element Disclosure referenced from `_sd`, or a property Disclosure from `...`
///   (§7.1 steps 3.2.1.1, 3.2.2.1) → `WrongDisclosureKind`;
/// - a disclosed name `_sd` or `...` (§7.1 step 3.2.1.2) → `ForbiddenClaimName`;
/// - a disclosed name that already exists at its level (§7.1 step 3.2.1.3) → `ClaimExists`;
/// - `_sd` not an array of strings, `{"...": x}` with a non-string or extra members, `_sd_alg`
///   below the top level (§4.1.1, §4.2.4) → `InvalidStructure`;
/// - nesting deeper than `max_depth`, counted through Disclosures → `LimitExceeded`.
pub fn process(
    payload: Map<String, Value>,
    disclosures: &[Disclosure],
    alg: SdAlg,
    max_depth: usize,
) -> Result<Processed> {
    process_owned(payload, disclosures.to_vec(), alg, max_depth)
}

/// [`process`] consuming the Disclosures (what the verifier and holder call).
pub(crate) fn process_owned(
    mut payload: Map<String, Value>,
    disclosures: Vec<Disclosure>,
    alg: SdAlg,
    max_depth: usize,
) -> Result<Processed> {
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for (i, d) in disclosures.iter().enumerate() {
        if by_digest.insert(d.digest(alg), i).is_some() {
            return Err(Error::DuplicateDisclosure);
        }
    }
    let mut ctx = Ctx {
        by_digest,
        used: vec![false; disclosures.len()],
        seen: std::collections::HashSet::with_capacity(disclosures.len() * 2),
        disclosed: Vec::with_capacity(disclosures.len()),
        disclosures,
        max_depth,
    };
    // §7.1 step 3.3: `_sd_alg` is removed from the top level (and is only allowed there, §4.1.1).
    payload.remove("_sd_alg");
    let claims = ctx.object(payload, &ClaimPath::root(), None, 1)?;
    // §7.1 step 3.5: every Disclosure must have been referenced.
    if ctx.used.iter().any(|u| !u) {
        return Err(Error::UnreferencedDisclosure);
    }
    Ok(Processed {
        claims,
        disclosed: ctx.disclosed,
    })
}

impl Ctx {
    fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > self.max_depth {
            return Err(Error::LimitExceeded(format!(
                "claims nest deeper than {}",
                self.max_depth
            )));
        }
        Ok(())
    }

    /// §7.1 step 3.4: every digest, matched or not (decoys included), appears once.
    fn see(&mut self, digest: String) -> Result<Option<usize>> {
        let found = self.by_digest.get(&digest).copied();
        if !self.seen.insert(digest) {
            return Err(Error::DuplicateDigest);
        }
        Ok(found)
    }

    fn value(
        &mut self,
        v: Value,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Value> {
        match v {
            Value::Object(m) => Ok(Value::Object(self.object(m, path, parent, depth)?)),
            Value::Array(a) => Ok(Value::Array(self.array(a, path, parent, depth)?)),
            other => Ok(other),
        }
    }

    fn object(
        &mut self,
        mut obj: Map<String, Value>,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Map<String, Value>> {
        self.check_depth(depth)?;
        if obj.contains_key("_sd_alg") {
            return Err(Error::InvalidStructure(
                "`_sd_alg` is only allowed at the top level (RFC 9901 §4.1.1)".into(),
            ));
        }
        if obj.contains_key("...") {
            return Err(Error::InvalidStructure(
                "`...` is only allowed as the single member of an array element (RFC 9901 §4.2.4.2)".into(),
            ));
        }
        let digests = match obj.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|d| match d {
                    Value::String(s) => Ok(s),
                    _ => Err(Error::InvalidStructure("`_sd` must hold strings".into())),
                })
                .collect::<Result<Vec<_>>>()?,
            Some(_) => return Err(Error::InvalidStructure("`_sd` must be an array".into())),
        };
        // Plain members first (their own digests resolved recursively).
        let mut out = Map::new();
        for (k, v) in obj {
            // Scalars need no path; building one per member is most of the cost otherwise.
            let v = if v.is_object() || v.is_array() {
                self.value(v, &path.child(k.clone()), parent, depth + 1)?
            } else {
                v
            };
            out.insert(k, v);
        }
        for digest in digests {
            let Some(i) = self.see(digest)? else {
                continue; // a decoy or an undisclosed claim
            };
            let d = &self.disclosures[i];
            let Some(name) = d.name() else {
                // §7.1 step 3.2.1.1: `_sd` digests must refer to object-property Disclosures.
                return Err(Error::WrongDisclosureKind(
                    "array-element disclosure referenced from `_sd`".into(),
                ));
            };
            // §7.1 step 3.2.1.2.
            if name == "_sd" || name == "..." {
                return Err(Error::ForbiddenClaimName(name.to_owned()));
            }
            // §7.1 step 3.2.1.3.
            if out.contains_key(name) {
                return Err(Error::ClaimExists(truncate(name)));
            }
            let name = name.to_owned();
            self.used[i] = true;
            let (encoded, raw) = self.disclosures[i].take_parts();
            let child = path.child(name.clone());
            let index = self.disclosed.len();
            self.disclosed.push(DisclosedClaim {
                path: child.clone(),
                disclosure: encoded,
                name: Some(name.clone()),
                value: Value::Null,
                parent,
            });
            let v = self.value(raw, &child, Some(index), depth + 1)?;
            self.disclosed[index].value = v.clone();
            out.insert(name, v);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        items: Vec<Value>,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Vec<Value>> {
        self.check_depth(depth)?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let digest = match &item {
                Value::Object(m) if m.contains_key("...") => {
                    if m.len() != 1 {
                        return Err(Error::InvalidStructure(
                            "`...` must be the only member of its object (RFC 9901 §4.2.4.2)"
                                .into(),
                        ));
                    }
                    match m.get("...") {
                        Some(Value::String(s)) => Some(s.clone()),
                        _ => return Err(Error::InvalidStructure("`...` must be a string".into())),
                    }
                }
                _ => None,
            };
            match digest {
                None if !(item.is_object() || item.is_array()) => out.push(item),
                None => {
                    let child = path.child(out.len().to_string());
                    out.push(self.value(item, &child, parent, depth + 1)?);
                }
                Some(digest) => {
                    // §7.1 step 3.2.2.2: an unmatched array digest is removed.
                    let Some(i) = self.see(digest)? else {
                        continue;
                    };
                    let d = &self.disclosures[i];
                    if !d.is_array_element() {
                        // §7.1 step 3.2.2.1.
                        return Err(Error::WrongDisclosureKind(format!(
                            "object-property disclosure {} referenced from an array",
                            d.label()
                        )));
                    }
                    self.used[i] = true;
                    let child = path.child(out.len().to_string());
                    let index = self.disclosed.len();
                    let (encoded, raw) = self.disclosures[i].take_parts();
                    self.disclosed.push(DisclosedClaim {
                        path: child.clone(),
                        disclosure: encoded,
                        name: None,
                        value: Value::Null,
                        parent,
                    });
                    let v = self.value(raw, &child, Some(index), depth + 1)?;
                    self.disclosed[index].value = v.clone();
                    out.push(v);
                }
            }
        }
        Ok(out)
    }
}

//! Organization discovery and home-realm discovery during authorization: find the
//! organization a login is for by `orgId`, `orgHandle`, `org` (name or handle), or the email
//! domain of `login_hint` with `orgDiscoveryType=emailDomain`; a `fidp` home-realm identifier
//! registered by that organization routes straight to its identity provider.
//!
//! Discovery routes; it never grants membership (keycloak#37169): whether the user may enter
//! the organization is decided after login by [`sharing::resolve`](crate::sharing::resolve).

use crate::error::{OrgError, Result};
use crate::hierarchy;
use crate::model::{normalize_email_domain, Application, IssuerMode, OrgId, Organization};
use crate::ports::OrganizationStore;

/// Longest parameter value read.
const MAX_PARAM: usize = 512;

/// How to discover the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscoveryBy {
    /// `orgId`.
    Id(OrgId),
    /// `orgHandle`.
    Handle(String),
    /// `org`: a handle, else an unambiguous name.
    NameOrHandle(String),
    /// `login_hint` with `orgDiscoveryType=emailDomain`: the domain after the last `@`.
    EmailDomain(String),
}

/// The discovery parameters of an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveryRequest {
    /// What to look up.
    pub by: DiscoveryBy,
    /// `fidp`: a home-realm identifier.
    pub fidp: Option<String>,
}

impl DiscoveryRequest {
    /// Reads `orgId`, `orgHandle`, `org`, `login_hint` + `orgDiscoveryType`, `fidp` from
    /// request parameters. `None` when no discovery parameter is present; more than one way
    /// at once, an unknown `orgDiscoveryType` or a `login_hint` without a domain is `Invalid`.
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Option<DiscoveryRequest>> {
        let (mut id, mut handle, mut org, mut hint, mut kind, mut fidp) =
            (None, None, None, None, None, None);
        for (k, v) in params {
            if v.len() > MAX_PARAM {
                return Err(OrgError::invalid("discovery parameter", "too long"));
            }
            let slot = match k {
                "orgId" => &mut id,
                "orgHandle" => &mut handle,
                "org" => &mut org,
                "login_hint" => &mut hint,
                "orgDiscoveryType" => &mut kind,
                "fidp" => &mut fidp,
                _ => continue,
            };
            if slot.replace(v.to_owned()).is_some() {
                return Err(OrgError::invalid(
                    "discovery parameter",
                    format!("`{k}` repeated"),
                ));
            }
        }
        let email = match kind.as_deref() {
            None => None,
            Some("emailDomain") => {
                let hint = hint.ok_or_else(|| {
                    OrgError::invalid(
                        "login_hint",
                        "orgDiscoveryType=emailDomain needs login_hint",
                    )
                })?;
                let domain = hint
                    .rsplit_once('@')
                    .map(|(_, d)| d)
                    .ok_or_else(|| OrgError::invalid("login_hint", "not an email address"))?;
                Some(normalize_email_domain(domain)?)
            }
            Some(_) => return Err(OrgError::invalid("orgDiscoveryType", "only emailDomain")),
        };
        let mut ways: Vec<DiscoveryBy> = Vec::new();
        if let Some(id) = id {
            ways.push(DiscoveryBy::Id(OrgId::new(id)?));
        }
        if let Some(h) = handle {
            ways.push(DiscoveryBy::Handle(h));
        }
        if let Some(o) = org {
            ways.push(DiscoveryBy::NameOrHandle(o));
        }
        if let Some(d) = email {
            ways.push(DiscoveryBy::EmailDomain(d));
        }
        if ways.len() > 1 {
            return Err(OrgError::invalid(
                "discovery parameter",
                "more than one way given",
            ));
        }
        Ok(ways.pop().map(|by| DiscoveryRequest { by, fidp }))
    }
}

/// Where discovery routes the login.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovered {
    /// The organization.
    pub organization: Organization,
    /// The identity provider a `fidp` home-realm identifier routes to.
    pub identity_provider: Option<String>,
}

/// Finds the organization (pure lookup over the store, no membership change): unknown is
/// `UnknownOrganization`; a disabled organization (or ancestor) is `Disabled`; an email domain
/// counts only where email-domain discovery is on in the organization's effective settings;
/// an unknown `fidp` is ignored (the login page offers every option).
pub async fn discover(store: &dyn OrganizationStore, req: &DiscoveryRequest) -> Result<Discovered> {
    let unknown = |s: &str| OrgError::UnknownOrganization(s.to_owned());
    let org = match &req.by {
        DiscoveryBy::Id(id) => store.get(id).await?.ok_or_else(|| unknown(id.as_str()))?,
        DiscoveryBy::Handle(h) => store.by_handle(h).await?.ok_or_else(|| unknown(h))?,
        DiscoveryBy::NameOrHandle(n) => match store.by_handle(n).await? {
            Some(o) => o,
            None => {
                let mut named = store.by_name(n).await?;
                if named.len() > 1 {
                    return Err(OrgError::invalid(
                        "org",
                        "more than one organization has this name",
                    ));
                }
                named.pop().ok_or_else(|| unknown(n))?
            }
        },
        DiscoveryBy::EmailDomain(d) => {
            let org = store.by_email_domain(d).await?.ok_or_else(|| unknown(d))?;
            if !hierarchy::effective_settings(store, &org.id)
                .await?
                .email_domains_discovery
            {
                return Err(unknown(d));
            }
            org
        }
    };
    hierarchy::require_active(store, &org).await?;
    let identity_provider = req
        .fidp
        .as_ref()
        .and_then(|f| org.home_realms.get(f).cloned());
    Ok(Discovered {
        organization: org,
        identity_provider,
    })
}

/// The parameters that select an organization by discovery; a host that routes a login
/// elsewhere drops them from the forwarded request (`login_hint` and `fidp` are kept: they
/// still describe the user and the home realm).
pub const DISCOVERY_PARAMETERS: [&str; 4] = ["orgId", "orgHandle", "org", "orgDiscoveryType"];

/// Why a discovered organization cannot take the login of a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteRefusal {
    /// The organization uses the root issuer: it has no authorization endpoint of its own
    /// (ask the root with `organization=<id>` to scope the login to it).
    #[error("organization {0} has no issuer of its own: send organization={0} to this authorization endpoint instead")]
    RootIssued(OrgId),
    /// The client is not one of the organization's own applications, which are the only ones
    /// its issuer serves.
    #[error("client {client_id} is not registered in organization {org}")]
    ClientNotThere {
        /// The organization.
        org: OrgId,
        /// The client.
        client_id: String,
    },
}

/// Whether a login that discovery found for `org` goes to `org`'s own issuer (pure): the
/// organization issues its own tokens (`IssuerMode::SelfIssued`) and `app` (the client's
/// application record) is registered in it. Routing never grants membership: the
/// organization's issuer lets only its members log in.
pub fn route_to_issuer(
    org: &Organization,
    client_id: &str,
    app: Option<&Application>,
) -> std::result::Result<OrgId, RouteRefusal> {
    if org.issuer != IssuerMode::SelfIssued {
        return Err(RouteRefusal::RootIssued(org.id.clone()));
    }
    let registered_there = matches!(app, Some(a) if a.organization == org.id);
    if !registered_there {
        return Err(RouteRefusal::ClientNotThere {
            org: org.id.clone(),
            client_id: client_id.to_owned(),
        });
    }
    Ok(org.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_only_to_a_self_issuing_organization_of_the_client() {
        let root = Organization::root("Root");
        let id = OrgId::new("p").unwrap();
        let mut p = Organization::child_of(&root, id.clone(), "P", "p");
        let own = Application::new("p-app", id.clone());
        let shared =
            Application::new("app", OrgId::root()).with_shared_with(crate::model::SharedWith::All);
        assert_eq!(
            route_to_issuer(&p, "p-app", Some(&own)),
            Err(RouteRefusal::RootIssued(id.clone()))
        );
        p.issuer = IssuerMode::SelfIssued;
        assert_eq!(route_to_issuer(&p, "p-app", Some(&own)), Ok(id.clone()));
        for (client, app) in [("app", Some(&shared)), ("ghost", None)] {
            assert_eq!(
                route_to_issuer(&p, client, app),
                Err(RouteRefusal::ClientNotThere {
                    org: id.clone(),
                    client_id: client.into()
                })
            );
        }
        assert!(RouteRefusal::RootIssued(id)
            .to_string()
            .contains("organization=p"));
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<DiscoveryRequest>> {
        DiscoveryRequest::from_params(pairs.iter().copied())
    }

    #[test]
    fn parameters() {
        assert_eq!(parse(&[("client_id", "x")]).unwrap(), None);
        let r = parse(&[("orgId", "acme"), ("fidp", "okta")])
            .unwrap()
            .unwrap();
        assert_eq!(r.by, DiscoveryBy::Id(OrgId::new("acme").unwrap()));
        assert_eq!(r.fidp.as_deref(), Some("okta"));
        let r = parse(&[
            ("login_hint", "bob@Acme.COM"),
            ("orgDiscoveryType", "emailDomain"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(r.by, DiscoveryBy::EmailDomain("acme.com".into()));
        // A login_hint alone is not discovery.
        assert_eq!(parse(&[("login_hint", "bob@acme.com")]).unwrap(), None);
        for bad in [
            &[("orgId", "a"), ("orgHandle", "b")][..],
            &[("orgDiscoveryType", "emailDomain")],
            &[("orgDiscoveryType", "ip"), ("login_hint", "a@b.c")],
            &[("orgDiscoveryType", "emailDomain"), ("login_hint", "bob")],
            &[("orgId", "a"), ("orgId", "a")],
            &[("orgId", "a/b")],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}

//! LDAP

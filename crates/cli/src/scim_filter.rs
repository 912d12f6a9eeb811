//! `idforge scim-filter parse | sql | ldap | eval`: SCIM 2.0 filters (RFC 7644 §3.4.2.2) from the
//! shell.
//!
//! Exit codes: 0 success; 1 an invalid filter or resource (one line `error: <scimType>: <reason
//! with the byte offset>` on stderr, nothing on stdout); 2 usage errors (clap).

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use idforge_scim_filter::{ldap, matches, parse_filter, sql, Error, Filter, Schema};

#[derive(Debug, Subcommand)]
pub(crate) enum ScimFilterCommand {
    /// Parse FILTER and print its syntax tree as JSON (with byte spans).
    Parse {
        /// The filter, e.g. 'userName eq "bjensen"'.
        filter: String,
    },
    /// Translate FILTER to a parameterized SQL WHERE expression for a wide `users` table
    /// (columns named after attributes with '.' replaced by '_', booleans stored as 0/1); prints
    /// {"sql": ..., "params": [...]}.
    Sql {
        /// SQL dialect (placeholders `$1…` for postgres, `?` for sqlite and mysql).
        #[arg(long, value_enum)]
        dialect: DialectArg,
        /// The filter.
        filter: String,
    },
    /// Translate FILTER to an RFC 4515 LDAP filter (inetOrgPerson attribute mapping).
    Ldap {
        /// The filter.
        filter: String,
    },
    /// Evaluate FILTER against the JSON resource in FILE; prints `true` or `false`.
    Eval {
        /// A SCIM resource as JSON (`-` for standard input).
        #[arg(long)]
        resource: String,
        /// The resource type whose RFC 7643 schema applies.
        #[arg(long, value_enum, default_value = "user")]
        schema: SchemaArg,
        /// The filter.
        filter: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DialectArg {
    Postgres,
    Sqlite,
    Mysql,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SchemaArg {
    /// RFC 7643 User with the Enterprise User extension.
    User,
    /// RFC 7643 Group.
    Group,
}

struct Failure {
    code: &'static str,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            code: e.scim_type().as_str(),
            message: e.to_string(),
        }
    }
}

fn parse(text: &str) -> Result<Filter, Failure> {
    Ok(parse_filter(text)?)
}

fn execute(cmd: ScimFilterCommand) -> Result<String, Failure> {
    match cmd {
        ScimFilterCommand::Parse { filter } => {
            let f = parse(&filter)?;
            Ok(pretty(&f.to_json()))
        }
        ScimFilterCommand::Sql { dialect, filter } => {
            let f = parse(&filter)?;
            let dialect = match dialect {
                DialectArg::Postgres => sql::Dialect::Postgres,
                DialectArg::Sqlite => sql::Dialect::Sqlite,
                DialectArg::Mysql => sql::Dialect::MySql,
            };
            let q = sql::to_sql(&f, &Schema::user(), &sql::WideTable::new("users"), dialect)?;
            Ok(pretty(&q.to_json()))
        }
        ScimFilterCommand::Ldap { filter } => {
            let f = parse(&filter)?;
            Ok(ldap::to_ldap(
                &f,
                &Schema::user(),
                &ldap::LdapMap::inet_org_person(),
            )?)
        }
        ScimFilterCommand::Eval {
            resource,
            schema,
            filter,
        } => {
            let f = parse(&filter)?;
            let text = if resource == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&resource)
            }
            .map_err(|e| Failure {
                code: "invalid_resource",
                message: format!("cannot read {resource}: {e}"),
            })?;
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Failure {
                code: "invalid_resource",
                message: format!("{resource} is not JSON: {e}"),
            })?;
            let schema = match schema {
                SchemaArg::User => Schema::user(),
                SchemaArg::Group => Schema::group(),
            };
            Ok(matches(&f, &value, &schema)?.to_string())
        }
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Runs one `scim-filter` subcommand, printing its result or a one-line error.
pub(crate) fn run(cmd: ScimFilterCommand) -> ExitCode {
    match execute(cmd) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{out}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprintln!("error: {}: {}", f.code, f.message.replace('\n', " "));
            ExitCode::from(1)
        }
    }
}

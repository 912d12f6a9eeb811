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

#[derive(Debug)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn out(cmd: ScimFilterCommand) -> String {
        execute(cmd).expect("command succeeds")
    }

    fn fail(cmd: ScimFilterCommand) -> Failure {
        execute(cmd).expect_err("command fails")
    }

    #[test]
    fn parse_prints_the_ast_with_spans() {
        let v: serde_json::Value = serde_json::from_str(&out(ScimFilterCommand::Parse {
            filter: r#"userName Eq "bjensen" and not (title pr)"#.into(),
        }))
        .expect("JSON");
        assert_eq!(v["op"], "and");
        assert_eq!(v["filters"][0]["op"], "eq");
        assert_eq!(v["filters"][0]["value"], "bjensen");
        assert_eq!(v["filters"][1]["op"], "not");
        assert_eq!(v["span"], serde_json::json!([0, 40]));
    }

    #[test]
    fn sql_uses_placeholders_and_underscored_columns() {
        let v: serde_json::Value = serde_json::from_str(&out(ScimFilterCommand::Sql {
            dialect: DialectArg::Postgres,
            filter: r#"name.familyName sw "O'M" and active eq true"#.into(),
        }))
        .expect("JSON");
        assert_eq!(
            v["sql"],
            r#"LOWER("users"."name_familyName") LIKE LOWER($1) ESCAPE '!' AND "users"."active" = $2"#
        );
        assert_eq!(v["params"], serde_json::json!(["O'M%", 1]));
        let v: serde_json::Value = serde_json::from_str(&out(ScimFilterCommand::Sql {
            dialect: DialectArg::Sqlite,
            filter: r#"meta.lastModified ge "2011-05-13T04:42:34Z""#.into(),
        }))
        .expect("JSON");
        assert_eq!(v["sql"], r#""users"."meta_lastModified" >= ?"#);
        assert_eq!(
            v["params"],
            serde_json::json!(["2011-05-13T04:42:34.000000Z"])
        );
        let v: serde_json::Value = serde_json::from_str(&out(ScimFilterCommand::Sql {
            dialect: DialectArg::Mysql,
            filter: r#"externalId eq "A""#.into(),
        }))
        .expect("JSON");
        assert_eq!(v["sql"], "`users`.`externalId` COLLATE utf8mb4_bin = ?");
    }

    #[test]
    fn ldap_and_eval() {
        assert_eq!(
            out(ScimFilterCommand::Ldap {
                filter: r#"userName eq "a*b" and not (title pr)"#.into()
            }),
            r"(&(uid=a\2ab)(!(title=*)))"
        );
        let file =
            std::env::temp_dir().join(format!("idforge-scim-eval-{}.json", std::process::id()));
        std::fs::write(
            &file,
            r#"{"userName": "bjensen", "emails": [{"type": "work", "value": "b@example.com"}]}"#,
        )
        .expect("write");
        let eval = |filter: &str| {
            execute(ScimFilterCommand::Eval {
                resource: file.display().to_string(),
                schema: SchemaArg::User,
                filter: filter.into(),
            })
        };
        assert_eq!(
            eval(r#"emails[type eq "work" and value co "@example.com"]"#).expect("ok"),
            "true"
        );
        assert_eq!(eval(r#"userName eq "other""#).expect("ok"), "false");
        let e = eval("active gt true").expect_err("boolean ordering");
        assert_eq!(e.code, "invalidFilter");
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn errors_name_the_offset() {
        let f = fail(ScimFilterCommand::Parse {
            filter: r#"userName eq "x" and"#.into(),
        });
        assert_eq!(f.code, "invalidFilter");
        assert!(f.message.contains("at byte 19"), "{}", f.message);
        let f = fail(ScimFilterCommand::Ldap {
            filter: r#"userName gt "a""#.into(),
        });
        assert!(f.message.contains("LDAP cannot express"), "{}", f.message);
        let f = fail(ScimFilterCommand::Eval {
            resource: "/nonexistent/idforge.json".into(),
            schema: SchemaArg::User,
            filter: "title pr".into(),
        });
        assert_eq!(f.code, "invalid_resource");
    }
}

//! Differential test: for every corpus filter, the rows a real SQL engine returns for the
//! generated `WHERE` clause are exactly the users `matches` accepts. SQLite (bundled) always runs;
//! PostgreSQL runs when `IDFORGE_PG_URL` is set (by `.ci/scim-filter.sh`), through `psql`; the
//! MySQL dialect runs on MariaDB when `IDFORGE_MYSQL_URL` is set, through the `mariadb` client.

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::{Command, Stdio};

use idforge_scim_filter::sql::{to_sql, ColumnMap, Dialect, SqlParam, SqlQuery};
use idforge_scim_filter::{parse_filter, Filter, Schema};
use serde_json::Value;

struct Case {
    text: String,
    filter: Filter,
    expected: Vec<i64>,
}

fn cases() -> (Vec<Value>, Vec<Case>) {
    let users = common::users();
    let corpus = common::corpus(&users);
    assert!(users.len() >= 50, "at least 50 seeded users");
    assert!(
        corpus.len() >= 150,
        "at least 150 filters, have {}",
        corpus.len()
    );
    let cases: Vec<Case> = corpus
        .into_iter()
        .map(|text| {
            let filter = parse_filter(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let expected = common::expected_ids(&filter, &users);
            Case {
                text,
                filter,
                expected,
            }
        })
        .collect();
    // The corpus must discriminate: most filters select some users but not all.
    let selective = cases
        .iter()
        .filter(|c| !c.expected.is_empty() && c.expected.len() < users.len())
        .count();
    assert!(
        selective * 2 > cases.len(),
        "only {selective} of {} filters are selective",
        cases.len()
    );
    (users, cases)
}

fn translate(c: &Case, map: &dyn ColumnMap, dialect: Dialect) -> SqlQuery {
    to_sql(&c.filter, &Schema::user(), map, dialect).unwrap_or_else(|e| panic!("{}: {e}", c.text))
}

fn run_sqlite(statements: &[String], cases: &[Case], map: &dyn ColumnMap) -> usize {
    let db = rusqlite::Connection::open_in_memory().expect("sqlite");
    db.execute_batch(&format!("{};", statements.join(";\n")))
        .expect("seed");
    let mut checked = 0;
    for c in cases {
        let q = translate(c, map, Dialect::Sqlite);
        let sql = format!("SELECT id FROM users WHERE {} ORDER BY id", q.sql);
        let params: Vec<rusqlite::types::Value> = q
            .params
            .iter()
            .map(|p| match p {
                SqlParam::Text(s) => rusqlite::types::Value::Text(s.clone()),
                SqlParam::Integer(i) => rusqlite::types::Value::Integer(*i),
                SqlParam::Real(f) => rusqlite::types::Value::Real(*f),
                SqlParam::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
            })
            .collect();
        let mut stmt = db
            .prepare(&sql)
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", c.text));
        let rows: Vec<i64> = stmt
            .query_map(rusqlite::params_from_iter(params), |r| r.get(0))
            .and_then(|it| it.collect())
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", c.text));
        assert_eq!(
            rows, c.expected,
            "filter {}\nSQL {sql}\nparams {:?}",
            c.text, q.params
        );
        checked += 1;
    }
    checked
}

#[test]
fn sqlite_wide_and_child_tables_agree_with_matches() {
    let (users, cases) = cases();
    let n = run_sqlite(
        &common::wide_statements(&users, false),
        &cases,
        &common::wide_map(),
    );
    println!(
        "sqlite wide layout: {n} filters over {} users agree",
        users.len()
    );
}

#[test]
fn sqlite_eav_agrees_with_matches() {
    let (users, cases) = cases();
    let n = run_sqlite(&common::eav_statements(&users), &cases, &common::eav_map());
    println!(
        "sqlite EAV layout: {n} filters over {} users agree",
        users.len()
    );
}

fn pg_literal(p: &SqlParam) -> String {
    match p {
        SqlParam::Text(s) => common::sql_lit(s),
        SqlParam::Integer(i) => i.to_string(),
        SqlParam::Real(f) => format!("{f:?}"),
        SqlParam::Bool(b) => b.to_string(),
    }
}

/// Runs all cases in one `psql` session: each filter becomes a prepared statement (so the
/// generated `$n` placeholders are real parameters), executed with its values.
fn run_postgres(
    url: &str,
    schema_name: &str,
    statements: &[String],
    cases: &[Case],
    map: &dyn ColumnMap,
) {
    let mut script = String::from("\\set ON_ERROR_STOP 1\nSET client_min_messages = warning;\n");
    script += &format!("DROP SCHEMA IF EXISTS {schema_name} CASCADE;\nCREATE SCHEMA {schema_name};\nSET search_path = {schema_name};\n");
    for s in statements {
        script += s;
        script += ";\n";
    }
    let mut sqls = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let q = translate(c, map, Dialect::Postgres);
        script += &format!(
            "PREPARE q{i} AS SELECT 'R' || coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM users WHERE {};\n",
            q.sql
        );
        if q.params.is_empty() {
            script += &format!("EXECUTE q{i};\n");
        } else {
            let lits: Vec<String> = q.params.iter().map(pg_literal).collect();
            script += &format!("EXECUTE q{i}({});\n", lits.join(", "));
        }
        sqls.push(q);
    }
    script += &format!("DROP SCHEMA {schema_name} CASCADE;\n");
    let mut child = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-d", url, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("psql finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('R')).collect();
    assert_eq!(lines.len(), cases.len(), "one result line per filter");
    for ((c, line), q) in cases.iter().zip(lines).zip(&sqls) {
        let got: BTreeSet<i64> = line[1..]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("id"))
            .collect();
        let want: BTreeSet<i64> = c.expected.iter().copied().collect();
        assert_eq!(
            got, want,
            "filter {}\nSQL {}\nparams {:?}",
            c.text, q.sql, q.params
        );
    }
    println!("postgres {schema_name}: {} filters agree", cases.len());
}

fn pg_url() -> Option<String> {
    match std::env::var("IDFORGE_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            common::skip_or_fail(
                "IDFORGE_PG_URL is not set (source .ci/scim-filter.sh to start PostgreSQL)",
            );
            None
        }
    }
}

#[test]
fn postgres_wide_and_child_tables_agree_with_matches() {
    let Some(url) = pg_url() else { return };
    let (users, cases) = cases();
    run_postgres(
        &url,
        "scim_wide",
        &common::wide_statements(&users, true),
        &cases,
        &common::wide_map(),
    );
}

#[test]
fn postgres_eav_agrees_with_matches() {
    let Some(url) = pg_url() else { return };
    let (users, cases) = cases();
    run_postgres(
        &url,
        "scim_eav",
        &common::eav_statements(&users),
        &cases,
        &common::eav_map(),
    );
}

/// `mysql://user:password@host:port/database`.
fn mysql_args() -> Option<Vec<String>> {
    let url = match std::env::var("IDFORGE_MYSQL_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            common::skip_or_fail(
                "IDFORGE_MYSQL_URL is not set (source .ci/scim-filter.sh to start MariaDB)",
            );
            return None;
        }
    };
    let rest = url.strip_prefix("mysql://").expect("mysql:// URL");
    let (cred, hostdb) = rest.rsplit_once('@').expect("user:password@");
    let (user, pw) = cred.split_once(':').expect("user:password");
    let (hostport, db) = hostdb.split_once('/').expect("/database");
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    Some(
        [
            "--no-defaults",
            "--default-character-set=utf8mb4",
            "-N",
            "-B",
            "-h",
            host,
            "-P",
            port,
            "-u",
            user,
            &format!("-p{pw}"),
            db,
        ]
        .map(String::from)
        .to_vec(),
    )
}

fn mysql_literal(p: &SqlParam) -> String {
    match p {
        SqlParam::Text(s) => common::sql_lit(s),
        SqlParam::Integer(i) => i.to_string(),
        SqlParam::Real(f) => format!("{f:?}"),
        SqlParam::Bool(b) => i64::from(*b).to_string(),
    }
}

/// Runs all cases in one `mariadb` client session with server-side prepared statements (`?`
/// placeholders bound with `EXECUTE ... USING`). The session uses `ANSI_QUOTES` for the fixture
/// DDL and `NO_BACKSLASH_ESCAPES` for the fixture literals; the generated SQL needs neither (it
/// quotes with backticks and escapes LIKE with '!').
fn run_mysql(args: &[String], statements: &[String], cases: &[Case], map: &dyn ColumnMap) {
    let mut script = String::from(
        "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES');\n\
         DROP TABLE IF EXISTS users, user_emails, user_schemas, user_attrs;\n",
    );
    for s in statements {
        script += s;
        script += ";\n";
    }
    let mut sqls = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let q = translate(c, map, Dialect::MySql);
        let select = format!(
            "SELECT CONCAT('R', COALESCE(GROUP_CONCAT(id ORDER BY id), '')) FROM users WHERE {}",
            q.sql
        );
        script += &format!("PREPARE q{i} FROM {};\n", common::sql_lit(&select));
        let mut vars = Vec::new();
        for (k, p) in q.params.iter().enumerate() {
            script += &format!("SET @p{k} = {};\n", mysql_literal(p));
            vars.push(format!("@p{k}"));
        }
        if vars.is_empty() {
            script += &format!("EXECUTE q{i};\n");
        } else {
            script += &format!("EXECUTE q{i} USING {};\n", vars.join(", "));
        }
        script += &format!("DEALLOCATE PREPARE q{i};\n");
        sqls.push(q);
    }
    script += "DROP TABLE IF EXISTS users, user_emails, user_schemas, user_attrs;\n";
    let mut child = Command::new("mariadb")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mariadb client runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("mariadb finishes");
    assert!(
        out.status.success(),
        "mariadb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('R')).collect();
    assert_eq!(lines.len(), cases.len(), "one result line per filter");
    for ((c, line), q) in cases.iter().zip(lines).zip(&sqls) {
        let got: BTreeSet<i64> = line[1..]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("id"))
            .collect();
        let want: BTreeSet<i64> = c.expected.iter().copied().collect();
        assert_eq!(
            got, want,
            "filter {}\nSQL {}\nparams {:?}",
            c.text, q.sql, q.params
        );
    }
    println!("mysql dialect on MariaDB: {} filters agree", cases.len());
}

// Both MySQL-dialect tests share one database, so they run as one test.
#[test]
fn mysql_dialect_on_mariadb_agrees_with_matches() {
    let Some(args) = mysql_args() else { return };
    let (users, cases) = cases();
    run_mysql(
        &args,
        &common::wide_statements(&users, false),
        &cases,
        &common::wide_map(),
    );
    run_mysql(
        &args,
        &common::eav_statements(&users),
        &cases,
        &common::eav_map(),
    );
}

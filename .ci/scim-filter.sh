# shellcheck shell=bash
# Sourced by .ci/run before the tests (Debian 12, as root). Starts the peers the scim-filter
# differential tests need, on loopback, with throwaway data under target/, and exports:
#   IDFORGE_PG_URL          postgresql://postgres@127.0.0.1:$IDFORGE_PG_PORT/postgres
#   IDFORGE_MYSQL_URL       mysql://idforge:...@127.0.0.1:$IDFORGE_MYSQL_PORT/idforge_test (MariaDB,
#                           which runs the MySQL dialect)
#   IDFORGE_LDAP_URL        ldap://127.0.0.1:$IDFORGE_LDAP_PORT/
#   IDFORGE_LDAP_BASE       dc=idforge,dc=test
#   IDFORGE_LDAP_BIND_DN    cn=admin,dc=idforge,dc=test
#   IDFORGE_LDAP_BIND_PW    (a throwaway password for the throwaway directory)
#   IDFORGE_PEERS_DIR       kept if set, else target/peers (python/: scim2-filter-parser, node/: scim2-parse-filter)
# Idempotent: running it again reuses what is installed and running. It never exits the sourcing
# shell; a step that fails prints a warning and leaves its variable unset, so the tests skip — or
# fail under IDFORGE_INTEROP=require.

_scim_filter_ci_setup() {
    local root pgport ldapport myport work pgbin pgdir ldapdir mydir conf
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    pgport="${IDFORGE_PG_PORT:-54329}"
    ldapport="${IDFORGE_LDAP_PORT:-38989}"
    myport="${IDFORGE_MYSQL_PORT:-33069}"
    work="$root/target/scim-ci"
    mkdir -p "$work"

    # --- packages -------------------------------------------------------------------------
    # apt-get install, with one `apt-get update` and retry if the package lists are stale.
    _scim_apt() {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$work/apt.log" 2>&1 && return 0
        apt-get update -qq >>"$work/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$work/apt.log" 2>&1 \
            || { echo "scim-filter.sh: WARNING: apt-get install $* failed (see $work/apt.log)"; return 1; }
    }
    if [ ! -x /usr/sbin/slapd ] || ! command -v ldapsearch >/dev/null 2>&1; then
        echo "scim-filter.sh: installing slapd and ldap-utils"
        # Skip the package's own directory setup: the tests run their own slapd.
        echo "slapd slapd/no_configuration boolean true" | debconf-set-selections 2>/dev/null || true
        _scim_apt slapd ldap-utils || true
    fi
    if [ ! -x /usr/sbin/mariadbd ] || ! command -v mariadb >/dev/null 2>&1; then
        echo "scim-filter.sh: installing mariadb-server-core and mariadb-client"
        # The -core package has no service scripts: the tests run their own server.
        _scim_apt mariadb-server-core mariadb-client || true
    fi
    unset -f _scim_apt

    # --- PostgreSQL -----------------------------------------------------------------------
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)" || pgbin=""
    pgdir="$work/pg"
    if [ -n "$pgbin" ] && id postgres >/dev/null 2>&1; then
        mkdir -p "$pgdir"
        chown postgres "$pgdir" || true
        if ! runuser -u postgres -- test -w "$pgdir"; then
            # target/ is not reachable by the postgres user (e.g. a clone under /root).
            pgdir="/tmp/idforge-scim-ci-pg"
            mkdir -p "$pgdir" && chown postgres "$pgdir" || true
        fi
        if ! "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport"; then
            if [ ! -f "$pgdir/data/PG_VERSION" ]; then
                runuser -u postgres -- "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 \
                    || echo "scim-filter.sh: WARNING: initdb failed (see $work/initdb.log)"
            fi
            runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 30 \
                -o "-c listen_addresses=127.0.0.1 -p $pgport -k $pgdir -c fsync=off" start >"$work/pg_ctl.log" 2>&1 \
                || echo "scim-filter.sh: WARNING: PostgreSQL did not start (see $pgdir/server.log)"
        fi
        if "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport"; then
            export IDFORGE_PG_URL="postgresql://postgres@127.0.0.1:$pgport/postgres"
        fi
    else
        echo "scim-filter.sh: WARNING: PostgreSQL is not installed"
    fi

    # --- MariaDB (MySQL dialect) ----------------------------------------------------------
    mydir="$work/mysql"
    local mypw="idforge-ci-only" mysock="$work/mysql/mysqld.sock"
    if [ -x /usr/sbin/mariadbd ] && command -v mariadb >/dev/null 2>&1; then
        mkdir -p "$mydir"
        if ! mariadb-admin --no-defaults --socket="$mysock" -u root ping >/dev/null 2>&1; then
            if [ ! -d "$mydir/data/mysql" ]; then
                mariadb-install-db --no-defaults --datadir="$mydir/data" --user=root \
                    --auth-root-authentication-method=normal --skip-test-db >"$work/mysql-install.log" 2>&1 \
                    || echo "scim-filter.sh: WARNING: mariadb-install-db failed (see $work/mysql-install.log)"
            fi
            (/usr/sbin/mariadbd --no-defaults --datadir="$mydir/data" --user=root --bind-address=127.0.0.1 \
                --port="$myport" --socket="$mysock" --pid-file="$mydir/mysqld.pid" --skip-log-bin \
                --innodb-buffer-pool-size=32M --character-set-server=utf8mb4 >"$mydir/server.log" 2>&1 &)
            local j
            for j in $(seq 1 100); do
                mariadb-admin --no-defaults --socket="$mysock" -u root ping >/dev/null 2>&1 && break
                sleep 0.2
            done
        fi
        if mariadb --no-defaults --socket="$mysock" -u root -e \
            "CREATE DATABASE IF NOT EXISTS idforge_test; CREATE USER IF NOT EXISTS 'idforge'@'127.0.0.1' IDENTIFIED BY '$mypw'; GRANT ALL ON idforge_test.* TO 'idforge'@'127.0.0.1';" \
            >"$work/mysql-seed.log" 2>&1; then
            export IDFORGE_MYSQL_URL="mysql://idforge:$mypw@127.0.0.1:$myport/idforge_test"
        else
            echo "scim-filter.sh: WARNING: MariaDB did not start (see $mydir/server.log)"
        fi
    else
        echo "scim-filter.sh: WARNING: MariaDB is not installed"
    fi

    # --- OpenLDAP slapd -------------------------------------------------------------------
    ldapdir="$work/ldap"
    conf="$ldapdir/slapd.conf"
    local url="ldap://127.0.0.1:$ldapport/" base="dc=idforge,dc=test" admin="cn=admin,dc=idforge,dc=test" pw="idforge-ci-only"
    if [ -x /usr/sbin/slapd ] && command -v ldapsearch >/dev/null 2>&1; then
        if ! ldapsearch -x -H "$url" -b "" -s base >/dev/null 2>&1; then
            mkdir -p "$ldapdir/data"
            cat >"$conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include $root/crates/scim-filter/tests/ldap/idforge-scim.schema
pidfile $ldapdir/slapd.pid
argsfile $ldapdir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 268435456
suffix "$base"
rootdn "$admin"
rootpw $pw
directory $ldapdir/data
index objectClass eq
EOF
            /usr/sbin/slapd -f "$conf" -h "$url" >"$work/slapd.log" 2>&1 \
                || echo "scim-filter.sh: WARNING: slapd did not start (see $work/slapd.log)"
            local i
            for i in $(seq 1 50); do
                ldapsearch -x -H "$url" -b "" -s base >/dev/null 2>&1 && break
                sleep 0.1
            done
        fi
        if ldapsearch -x -H "$url" -b "" -s base >/dev/null 2>&1; then
            if ! ldapsearch -x -H "$url" -D "$admin" -w "$pw" -b "$base" -s base >/dev/null 2>&1; then
                printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: idforge\no: idforge\n' "$base" \
                    | ldapadd -x -H "$url" -D "$admin" -w "$pw" >"$work/ldap-seed.log" 2>&1 \
                    || echo "scim-filter.sh: WARNING: could not create $base (see $work/ldap-seed.log)"
            fi
            export IDFORGE_LDAP_URL="$url" IDFORGE_LDAP_BASE="$base" IDFORGE_LDAP_BIND_DN="$admin" IDFORGE_LDAP_BIND_PW="$pw"
        fi
    else
        echo "scim-filter.sh: WARNING: slapd/ldapsearch not available"
    fi

    # --- parser peers for the differential parser test ------------------------------------
    local peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
    if [ ! -d "$peers/python/scim2_filter_parser" ]; then
        python3 -m pip install -q --disable-pip-version-check --target "$peers/python" "scim2-filter-parser==0.7.0" >"$work/pip.log" 2>&1 \
            || echo "scim-filter.sh: WARNING: pip install scim2-filter-parser failed (see $work/pip.log)"
    fi
    if [ ! -d "$peers/node/node_modules/scim2-parse-filter" ]; then
        npm install --silent --no-audit --no-fund --prefix "$peers/node" "scim2-parse-filter@0.2.10" >"$work/npm.log" 2>&1 \
            || echo "scim-filter.sh: WARNING: npm install scim2-parse-filter failed (see $work/npm.log)"
    fi
    export IDFORGE_PEERS_DIR="$peers"
    echo "scim-filter.sh: PG=${IDFORGE_PG_URL:-none} MySQL=${IDFORGE_MYSQL_URL:+mariadb on 127.0.0.1:$myport} LDAP=${IDFORGE_LDAP_URL:-none} peers=$peers"
}

_scim_filter_ci_setup
unset -f _scim_filter_ci_setup

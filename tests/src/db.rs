//! A fresh database per test, cloned from a template that holds every migration.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    path::Path,
};

use sqlx::{Connection, Executor, PgConnection, PgPool, postgres::PgPoolOptions};

/// The server tests run on: `TEST_DATABASE_URL`, else `DATABASE_URL` (any database on it).
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("set TEST_DATABASE_URL (or run `make test`, which provides a local PostgreSQL)")
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("database URL parses");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// A database that exists for one test and is dropped when it goes out of scope.
pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
    pub name: String,
    admin_url: String,
    /// Left in place when dropped (a bench's reused seed).
    keep: bool,
}

impl TestDb {
    /// Creates a fresh, fully migrated database on the test server.
    pub async fn new() -> Self {
        Self::on_server(&server_url()).await
    }

    /// Creates a fresh, fully migrated database on the given server.
    pub async fn on_server(server: &str) -> Self {
        let admin_url = with_database(server, "postgres");
        let template = ensure_template(&admin_url).await;
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test server");
        // Clones from one template are serialised: PostgreSQL refuses a clone while the template
        // is being read by another one.
        admin
            .execute("SELECT pg_advisory_lock(774411)")
            .await
            .expect("lock");
        let created = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {name} TEMPLATE {template}"
            )))
            .await;
        admin
            .execute("SELECT pg_advisory_unlock(774411)")
            .await
            .expect("unlock");
        created.expect("create test database");
        let url = with_database(server, &name);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&url)
            .await
            .expect("connect test database");
        Self {
            pool,
            url,
            name,
            admin_url,
            keep: false,
        }
    }

    /// The database `name` on the test server, kept when dropped: created from the template when
    /// missing (`false`), else reused with any newer migration applied (`true`).
    pub async fn kept(name: &str) -> (Self, bool) {
        let server = server_url();
        let url = with_database(&server, name);
        if let Ok(pool) = PgPoolOptions::new().max_connections(10).connect(&url).await {
            common::db::migrate(&pool)
                .await
                .expect("migrate the kept database");
            let db = Self {
                pool,
                url,
                name: name.to_owned(),
                admin_url: with_database(&server, "postgres"),
                keep: true,
            };
            return (db, true);
        }
        let mut db = Self::on_server(&server).await;
        db.pool.close().await;
        let mut admin = PgConnection::connect(&db.admin_url).await.expect("connect");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {} RENAME TO {name}",
                db.name
            )))
            .await
            .expect("rename the kept database");
        db.name = name.to_owned();
        db.url = url;
        db.keep = true;
        db.pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&db.url)
            .await
            .expect("connect the kept database");
        (db, false)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async context; use a small runtime on a helper thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A template database holding every migration, named after a hash of the migrations, created
/// once per server and reused by every test.
async fn ensure_template(admin_url: &str) -> String {
    let mut hasher = DefaultHasher::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    // Cargo.lock pins the queue library, whose migrations are part of the template too.
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"));
    for f in files {
        f.file_name().hash(&mut hasher);
        std::fs::read(&f).expect("read migration").hash(&mut hasher);
    }
    let template = format!("repopal_template_{:016x}", hasher.finish());

    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("connect to the test server");
    admin
        .execute("SELECT pg_advisory_lock(774410)")
        .await
        .expect("lock");
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut admin)
        .await
        .expect("query pg_database");
    if exists.is_none() {
        // Templates of older migration sets are no longer used.
        let old: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'repopal_template_%'",
        )
        .fetch_all(&mut admin)
        .await
        .expect("list templates");
        for name in old {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
        let building = format!("{template}_building");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {building} WITH (FORCE)"
            )))
            .await
            .expect("drop");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
            .await
            .expect("create template");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&with_database(admin_url, &building))
            .await
            .expect("connect template");
        common::db::migrate(&pool).await.expect("migrate template");
        pool.close().await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {building} RENAME TO {template}"
            )))
            .await
            .expect("rename");
    }
    admin
        .execute("SELECT pg_advisory_unlock(774410)")
        .await
        .expect("unlock");
    template
}

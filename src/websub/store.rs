//! The hub's database: SQLite (rusqlite, library bundled) in WAL mode.
//!
//! Why SQLite: `feedd websub list` reads it while the daemon writes (WAL readers do not
//! block the writer; redb and sled lock the file for one process); a committed
//! transaction survives `kill -9` without an fsync per commit (`synchronous = NORMAL`
//! in WAL mode loses nothing on a process crash, only possibly the last commits on a
//! power cut); `PRAGMA quick_check` tells a damaged file from a good one at start; and
//! the format is stable and readable with the `sqlite3` tool for a user who wants to.
//!
//! Records are JSON in three key/value tables, so a new field is not a migration.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags};

use super::ledger::{Key, Owed, PingKey, Subscription, Write};

/// The database could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{}: damaged ({detail}); moved aside to {}", path.display(), moved.display())]
    Damaged {
        path: PathBuf,
        moved: PathBuf,
        detail: String,
    },
    #[error("{}: {detail}", path.display())]
    Io { path: PathBuf, detail: String },
    #[error("{}: cannot move the damaged database aside", path.display())]
    MoveAside {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Everything the database holds, as the ledger loads it.
#[derive(Debug, Default)]
pub struct Loaded {
    pub subs: Vec<(Key, Subscription)>,
    pub owed: Vec<(Key, Owed)>,
    pub pings: Vec<(PingKey, Owed)>,
}

pub struct Store {
    path: PathBuf,
    conn: Connection,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS subscriptions (
        topic TEXT NOT NULL, callback TEXT NOT NULL, record TEXT NOT NULL,
        PRIMARY KEY (topic, callback)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS owed (
        topic TEXT NOT NULL, callback TEXT NOT NULL, record TEXT NOT NULL,
        PRIMARY KEY (topic, callback)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS pings (
        hub TEXT NOT NULL, topic TEXT NOT NULL, record TEXT NOT NULL,
        PRIMARY KEY (hub, topic)) WITHOUT ROWID;
";

impl Store {
    /// Opens (or creates) the database and reads it whole. A damaged one is moved aside
    /// (`<name>.damaged-<unix time>`) and a new empty one made: the error says so, and the
    /// hub starts empty rather than not at all (subscribers re-subscribe at lease end).
    pub fn open(
        path: &Path,
        now_secs: u64,
    ) -> (Result<(Store, Loaded), StoreError>, Option<StoreError>) {
        match Store::try_open(path) {
            Ok(opened) => (Ok(opened), None),
            Err(Failure::Damaged(detail)) => {
                let moved = PathBuf::from(format!("{}.damaged-{now_secs}", path.display()));
                if let Err(source) = move_aside(path, &moved) {
                    let err = StoreError::MoveAside {
                        path: path.to_path_buf(),
                        source,
                    };
                    return (Err(err), None);
                }
                let report = StoreError::Damaged {
                    path: path.to_path_buf(),
                    moved,
                    detail,
                };
                let fresh = Store::try_open(path).map_err(|f| f.into_error(path));
                (fresh, Some(report))
            }
            Err(other) => (Err(other.into_error(path)), None),
        }
    }

    /// Opens read-only, for `feedd websub list` beside a running daemon.
    pub fn read(path: &Path) -> Result<Loaded, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let sqlite = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(path, flags).map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite)?;
        load(&conn).map_err(|f| f.into_error(path))
    }

    fn try_open(path: &Path) -> Result<(Store, Loaded), Failure> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Failure::Io(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(Failure::classify)?;
        // Subscribers' secrets: readable by feedd alone (SQLite gives its -wal and -shm
        // files the database's mode).
        restrict(path).map_err(|e| Failure::Io(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(Failure::classify)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(Failure::classify)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(Failure::classify)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(Failure::classify)?;
        if check != "ok" {
            return Err(Failure::Damaged(check));
        }
        conn.execute_batch(SCHEMA).map_err(Failure::classify)?;
        let loaded = load(&conn)?;
        Ok((
            Store {
                path: path.to_path_buf(),
                conn,
            },
            loaded,
        ))
    }

    /// Applies the ledger's writes in one transaction.
    pub fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let sqlite = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sqlite)?;
        for write in writes {
            let done = match write {
                Write::Subscribe(k, sub) => tx.execute(
                    "INSERT OR REPLACE INTO subscriptions VALUES (?1, ?2, ?3)",
                    params![k.topic, k.callback, json(sub)],
                ),
                Write::Unsubscribe(k) => tx
                    .execute(
                        "DELETE FROM subscriptions WHERE topic = ?1 AND callback = ?2",
                        params![k.topic, k.callback],
                    )
                    .and_then(|_| {
                        tx.execute(
                            "DELETE FROM owed WHERE topic = ?1 AND callback = ?2",
                            params![k.topic, k.callback],
                        )
                    }),
                Write::Owe(k, debt) => tx.execute(
                    "INSERT OR REPLACE INTO owed VALUES (?1, ?2, ?3)",
                    params![k.topic, k.callback, json(debt)],
                ),
                Write::Paid(k) => tx.execute(
                    "DELETE FROM owed WHERE topic = ?1 AND callback = ?2",
                    params![k.topic, k.callback],
                ),
                Write::Ping(k, debt) => tx.execute(
                    "INSERT OR REPLACE INTO pings VALUES (?1, ?2, ?3)",
                    params![k.hub, k.topic, json(debt)],
                ),
                Write::Pinged(k) => tx.execute(
                    "DELETE FROM pings WHERE hub = ?1 AND topic = ?2",
                    params![k.hub, k.topic],
                ),
            };
            done.map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Why opening failed: a damaged file is moved aside, anything else (permissions, a
/// full disk) is reported as it is, since a new file would not fare better.
enum Failure {
    Damaged(String),
    Sqlite(rusqlite::Error),
    Io(String),
}

impl Failure {
    fn classify(e: rusqlite::Error) -> Failure {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match e.sqlite_error_code() {
            Some(DatabaseCorrupt | NotADatabase) => Failure::Damaged(e.to_string()),
            _ => Failure::Sqlite(e),
        }
    }

    fn into_error(self, path: &Path) -> StoreError {
        let path = path.to_path_buf();
        match self {
            Failure::Sqlite(source) => StoreError::Sqlite { path, source },
            Failure::Damaged(detail) => StoreError::Damaged {
                moved: path.clone(),
                path,
                detail,
            },
            Failure::Io(detail) => StoreError::Io { path, detail },
        }
    }
}

fn load(conn: &Connection) -> Result<Loaded, Failure> {
    Ok(Loaded {
        subs: rows(
            conn,
            "SELECT topic, callback, record FROM subscriptions",
            |a, b| Key {
                topic: a,
                callback: b,
            },
        )?,
        owed: rows(conn, "SELECT topic, callback, record FROM owed", |a, b| {
            Key {
                topic: a,
                callback: b,
            }
        })?,
        pings: rows(conn, "SELECT hub, topic, record FROM pings", |a, b| {
            PingKey { hub: a, topic: b }
        })?,
    })
}

/// Every row of a table; a record that does not parse is logged and skipped.
fn rows<K, V: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    key: impl Fn(String, String) -> K,
) -> Result<Vec<(K, V)>, Failure> {
    let mut stmt = conn.prepare(sql).map_err(Failure::classify)?;
    let mapped = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .map_err(Failure::classify)?;
    let mut out = Vec::new();
    for row in mapped {
        let (a, b, record) = row.map_err(Failure::classify)?;
        match serde_json::from_str(&record) {
            Ok(value) => out.push((key(a, b), value)),
            // One bad row (edited by hand, say) costs that row, not the database.
            Err(e) => tracing::error!("websub database: skipped the record of ({a}, {b}): {e}"),
        }
    }
    Ok(out)
}

#[cfg(unix)]
pub(crate) fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
pub(crate) fn restrict(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Moves the database and its WAL and shared-memory files aside.
fn move_aside(path: &Path, moved: &Path) -> std::io::Result<()> {
    std::fs::rename(path, moved)?;
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        let to = PathBuf::from(format!("{}{suffix}", moved.display()));
        match std::fs::rename(&from, &to) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cb: &str) -> Key {
        Key {
            topic: "https://site/feed.xml".into(),
            callback: cb.into(),
        }
    }

    fn sub() -> Subscription {
        Subscription {
            rel: "feed.xml".into(),
            secret: Some("s".into()),
            host: "a".into(),
            verified: 1,
            expires: 2,
            delivered: None,
            last_delivery: None,
            failures: 0,
            last_error: None,
        }
    }

    #[test]
    fn writes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.sqlite3");
        let (opened, report) = Store::open(&path, 0);
        assert!(report.is_none());
        let (mut store, loaded) = opened.unwrap();
        assert!(loaded.subs.is_empty());
        let debt = Owed {
            seq: 3,
            attempts: 1,
            due: 9,
            since: 4,
        };
        store
            .apply(&[
                Write::Subscribe(key("https://a/1"), sub()),
                Write::Subscribe(key("https://a/2"), sub()),
                Write::Owe(key("https://a/1"), debt),
                Write::Owe(key("https://a/2"), debt),
                Write::Unsubscribe(key("https://a/2")),
            ])
            .unwrap();
        drop(store);
        let loaded = Store::read(&path).unwrap();
        assert_eq!(loaded.subs, vec![(key("https://a/1"), sub())]);
        assert_eq!(loaded.owed, vec![(key("https://a/1"), debt)]);
    }

    #[test]
    fn a_damaged_database_is_moved_aside_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.sqlite3");
        std::fs::write(
            &path,
            b"this is not an SQLite database, not even close.......",
        )
        .unwrap();
        let (opened, report) = Store::open(&path, 77);
        let (_, loaded) = opened.unwrap();
        assert!(loaded.subs.is_empty());
        let report = report.unwrap().to_string();
        assert!(report.contains("damaged"), "{report}");
        assert!(dir.path().join("hub.sqlite3.damaged-77").exists());
    }
}

//! The figures' database (SQLite, like the WebSub one: `feedd stats` reads it while
//! `serve` writes, and a user can open it): the figures of every day for 400 days, and
//! the open day's counting state, saved each minute so a restart mid-day counts nobody
//! twice. Closing a day deletes its state, and with it the day's key.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::day::{Day, Figure};

/// Days of figures kept.
pub const KEPT_DAYS: i64 = 400;

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS daily (
        day TEXT NOT NULL, file TEXT NOT NULL, source TEXT NOT NULL,
        readers INTEGER NOT NULL,
        PRIMARY KEY (day, file, source)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS open_day (
        id INTEGER PRIMARY KEY CHECK (id = 1), day TEXT NOT NULL, state TEXT NOT NULL);
";

pub struct Store {
    path: PathBuf,
    conn: Connection,
}

/// One stored figure and its day.
pub type Row = (NaiveDate, Figure);

impl Store {
    pub fn open(path: &Path) -> Result<Store, StatsError> {
        let io = |source| StatsError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let conn = Connection::open(path).map_err(|e| sqlite(path, e))?;
        crate::websub::store::restrict(path).map_err(io)?;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch(SCHEMA)
        };
        setup().map_err(|e| sqlite(path, e))?;
        Ok(Store {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// The day being counted when the last run stopped, if any (a state that does not
    /// parse is dropped: that day's counting starts again).
    pub fn open_day(&self) -> Result<Option<Day>, StatsError> {
        let state: Option<String> = self
            .conn
            .query_row("SELECT state FROM open_day WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| sqlite(&self.path, e))?;
        Ok(state.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Saves a day's figures so far and, while the day is open, its counting state
    /// (`Day::state`); without a state the day is closed: its saved state, and with it
    /// the key, is deleted, and figures older than `KEPT_DAYS` go.
    pub fn save(
        &mut self,
        date: NaiveDate,
        figures: &[Figure],
        state: Option<&str>,
    ) -> Result<(), StatsError> {
        let day = date.to_string();
        let write = || -> rusqlite::Result<()> {
            let tx = self.conn.unchecked_transaction()?;
            tx.execute("DELETE FROM daily WHERE day = ?1", [&day])?;
            {
                let mut insert = tx.prepare(
                    "INSERT OR REPLACE INTO daily (day, file, source, readers) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for f in figures {
                    let readers = i64::try_from(f.readers).unwrap_or(i64::MAX);
                    insert.execute(params![day, f.file, f.source, readers])?;
                }
            }
            match state {
                Some(state) => tx.execute(
                    "INSERT OR REPLACE INTO open_day (id, day, state) VALUES (1, ?1, ?2)",
                    params![day, state],
                )?,
                None => {
                    let oldest = date - chrono::Duration::days(KEPT_DAYS);
                    tx.execute("DELETE FROM daily WHERE day < ?1", [oldest.to_string()])?;
                    tx.execute("DELETE FROM open_day WHERE day = ?1", [&day])?
                }
            };
            tx.commit()
        };
        write().map_err(|e| sqlite(&self.path, e))
    }
}

/// Every figure since `since` (inclusive), read-only: works beside a running `serve`.
pub fn read(path: &Path, since: NaiveDate) -> Result<Vec<Row>, StatsError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite(path, e))?;
    let rows = || -> rusqlite::Result<Vec<Row>> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut q = conn.prepare(
            "SELECT day, file, source, readers FROM daily WHERE day >= ?1 ORDER BY day, file, source",
        )?;
        let rows = q.query_map([since.to_string()], |r| {
            let day: String = r.get(0)?;
            let readers: i64 = r.get(3)?;
            Ok((
                day,
                Figure {
                    file: r.get(1)?,
                    source: r.get(2)?,
                    readers: u64::try_from(readers).unwrap_or(0),
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (day, figure) = row?;
            // A day that does not parse was not written by feedd: skipped.
            if let Ok(date) = day.parse::<NaiveDate>() {
                out.push((date, figure));
            }
        }
        Ok(out)
    };
    rows().map_err(|e| sqlite(path, e))
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StatsError {
    StatsError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::agent::Agent;

    #[test]
    fn figures_and_the_open_day_survive_a_reopen_and_closing_drops_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.sqlite3");
        let date = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let mut day = Day::with_key(date, [1; 16]);
        let ip = "198.51.100.1".parse().unwrap();
        day.record("feed.xml", &Agent::Reader, ip, "newsboat");
        let websub = [Figure {
            file: "feed.xml".into(),
            source: "websub".into(),
            readers: 2,
        }];
        let figures = |d: &Day| [d.figures(), websub.to_vec()].concat();
        let state = day.state();
        (Store::open(&path).unwrap())
            .save(date, &figures(&day), state.as_deref())
            .unwrap();
        let store = Store::open(&path).unwrap();
        let mut back = store.open_day().unwrap().unwrap();
        back.record("feed.xml", &Agent::Reader, ip, "newsboat");
        let rows = read(&path, date).unwrap();
        assert_eq!(rows.len(), 2);
        let mut store = store;
        store.save(date, &figures(&back), None).unwrap();
        assert!(store.open_day().unwrap().is_none());
        let rows = read(&path, date).unwrap();
        let direct = rows.iter().find(|(_, f)| f.source == "direct").unwrap();
        assert_eq!(direct.1.readers, 1);
    }
}

//! Where the server keeps its rows: the `database` setting.

use std::path::{Path, PathBuf};

/// Where the rows are kept: `database` in the configuration, or `DGBOT_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq)]
pub enum Database {
    /// A SQLite file (`sqlite://path` or a plain path).
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://user:password@host:port/name`).
    Postgres(String),
}

impl Database {
    /// `postgres://…` / `postgresql://…`, `sqlite://path`, or a path (relative to `dir`).
    pub fn parse(text: &str, dir: &Path) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_owned())
        } else {
            Database::Sqlite(dir.join(text.strip_prefix("sqlite://").unwrap_or(text)))
        }
    }
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            // Never the password.
            Database::Postgres(url) => match url.split_once('@') {
                Some((_, at)) => write!(f, "postgres://…@{at}"),
                None => write!(f, "{url}"),
            },
        }
    }
}

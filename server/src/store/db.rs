//! One SQL layer over the two databases the store runs on: SQLite (the default: one file, one
//! connection behind a mutex) and PostgreSQL (a pool, for more than one server instance).
//!
//! The store writes each query once, in the SQL both speak, with numbered placeholders (`?1`;
//! PostgreSQL gets `$1`), and reads rows as [`Value`]s. Where the two differ the store asks the
//! [`Dialect`]: row locks (`FOR UPDATE`, `SKIP LOCKED`) and a lock per key inside a transaction
//! (PostgreSQL's advisory locks; SQLite's one connection is a lock already).
//!
//! The store's API stays synchronous, as SQLite's is: every statement is a short indexed read
//! or write. On PostgreSQL the statements run on a small runtime of their own (`dgbot-pg`
//! threads) while the calling thread waits, inside `block_in_place` when it is a worker of
//! tokio's multi-threaded runtime, so the server's other tasks move to another thread
//! meanwhile.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::Result;
use dgbot_core::model::{StoreError, StoreErrorKind};

/// A value going into or coming out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// What can be a statement's argument (see `args!`).
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
        impl FromValue for $t {
            fn from_value(v: Value) -> std::result::Result<Self, String> {
                match v {
                    Value::Int(i) => <$t>::try_from(i).map_err(|_| format!("{i} is out of range")),
                    other => Err(format!("an integer, not {other:?}")),
                }
            }
        }
    )*};
}
int_values!(i64, u64, u32, u16, u8, usize);

/// A statement's arguments, in placeholder order: `args![key.chatbot_id, limit as u64]`.
macro_rules! args {
    ($($x:expr),* $(,)?) => {
        &[$($crate::store::db::ToValue::to_value(&$x)),*][..]
    };
}
pub(crate) use args;

/// What a column can be read as.
pub trait FromValue: Sized {
    fn from_value(v: Value) -> std::result::Result<Self, String>;
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s),
            other => Err(format!("text, not {other:?}")),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            other => Err(format!("bytes, not {other:?}")),
        }
    }
}
impl FromValue for bool {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        i64::from_value(v).map(|i| i != 0)
    }
}

/// One result row.
#[derive(Debug, Clone, Default)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i` (from 0) as a `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self.0.get(i).cloned().unwrap_or(Value::Null);
        T::from_value(v).map_err(|e| {
            StoreError::new(StoreErrorKind::Corrupt, format!("column {i}: expected {e}"))
        })
    }
}

/// The SQL the two databases do not share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// After a `SELECT` in a transaction: lock the rows read until the transaction ends.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// After a `SELECT` in a transaction: lock the rows read, passing over rows another
    /// transaction holds (so two instances' workers never take the same row).
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// A connection: on its own (each statement commits) or inside `Store::tx`.
pub trait Conn {
    fn dialect(&self) -> Dialect;
    /// Run a statement; the rows it changed.
    fn exec(&mut self, sql: &str, args: &[Value]) -> Result<u64>;
    fn rows(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>>;
    fn row(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }
    /// Inside a transaction: wait for, then hold until it ends, the lock called `name` (two
    /// instances starting a livechat session for one visitor at once). SQLite has one
    /// connection, which is a lock already.
    fn lock(&mut self, name: &str) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            self.exec("SELECT pg_advisory_xact_lock(hashtext(?1))", args![name])?;
        }
        Ok(())
    }
}

/// `INSERT … ON CONFLICT (key) DO UPDATE SET` every other column: the latest write wins
/// (SQLite's `INSERT OR REPLACE`, in the SQL both databases speak).
pub fn upsert(table: &str, columns: &str, key: &str) -> String {
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let keys: Vec<&str> = key.split(',').map(str::trim).collect();
    let places: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let set: Vec<String> = names
        .iter()
        .filter(|n| !keys.contains(n))
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    format!(
        "INSERT INTO {table} ({columns}) VALUES ({}) ON CONFLICT ({key}) DO UPDATE SET {}",
        places.join(", "),
        set.join(", ")
    )
}

// ---- SQLite ----------------------------------------------------------------------------

pub struct SqliteConn<'a>(pub &'a rusqlite::Connection);

/// A SQLite failure, with its kind: a full disk, a file that cannot be opened, or another.
pub fn sqlite_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi::ErrorCode;
    let kind = match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => StoreErrorKind::Full,
        Some(ErrorCode::CannotOpen | ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreErrorKind::Unavailable
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreErrorKind::Corrupt,
        _ => StoreErrorKind::Other,
    };
    StoreError::new(kind, e)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl Conn for SqliteConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn exec(&mut self, sql: &str, args: &[Value]) -> Result<u64> {
        Ok(self
            .0
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(args)))
            .map_err(sqlite_error)? as u64)
    }

    fn rows(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        self.query(sql, args).map_err(sqlite_error)
    }
}

impl SqliteConn<'_> {
    fn query(&self, sql: &str, args: &[Value]) -> rusqlite::Result<Vec<Row>> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = vec![];
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(f) => Value::Int(f as i64),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }
}

// ---- PostgreSQL ------------------------------------------------------------------------

/// A PostgreSQL connection pool and the runtime its connections run on.
pub struct Pg {
    runtime: Option<tokio::runtime::Runtime>,
    pool: deadpool_postgres::Pool,
    url: String,
}

fn pg_error(e: impl Into<PgError>) -> StoreError {
    let PgError(kind, message) = e.into();
    StoreError::new(kind, message)
}

/// A PostgreSQL failure in words (tokio-postgres' `Display` says only "db error"), with its
/// kind: class 53 (`53100 disk_full`, out of memory or connections) is a full database, a
/// closed connection or a pool that cannot connect is an unavailable one.
pub struct PgError(pub StoreErrorKind, pub String);

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => {
                let code = db.code().code();
                let kind = match code {
                    "53100" => StoreErrorKind::Full,
                    c if c.starts_with("08") || c.starts_with("57P") => StoreErrorKind::Unavailable,
                    _ => StoreErrorKind::Other,
                };
                PgError(kind, format!("{code}: {}", db.message()))
            }
            None if e.is_closed() => PgError(StoreErrorKind::Unavailable, e.to_string()),
            None => PgError(StoreErrorKind::Other, e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            e => PgError(StoreErrorKind::Unavailable, e.to_string()),
        }
    }
}

impl Pg {
    /// Connect to `url` (`postgres://user:password@host:port/database`) with up to `size`
    /// connections, and check that the database answers.
    pub fn connect(url: &str, size: usize) -> Result<Pg> {
        let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
            StoreError::new(StoreErrorKind::Other, format!("database URL: {e}"))
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dgbot-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, format!("runtime: {e}")))?;
        let manager = deadpool_postgres::Manager::from_config(
            config,
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, format!("pool: {e}")))?;
        let pg = Pg {
            runtime: Some(runtime),
            pool,
            url: url.to_owned(),
        };
        let pool = pg.pool.clone();
        pg.wait(async move {
            let client = pool.get().await.map_err(pg_error)?;
            client.simple_query("SELECT 1").await.map_err(pg_error)?;
            Ok(())
        })?;
        Ok(pg)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.as_ref().expect("running").handle()
    }

    /// Run `work` on the database's runtime and wait for it here.
    pub fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle().spawn(async move {
            let _ = tx.send(work.await);
        });
        let receive = move || {
            rx.recv().unwrap_or_else(|_| {
                Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "the database runtime stopped",
                ))
            })
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(receive),
            _ => receive(),
        }
    }

    /// One connection of the pool, for a transaction's statements.
    pub fn conn(&self) -> Result<PgConn<'_>> {
        let pool = self.pool.clone();
        let client = self.wait(async move { pool.get().await.map_err(pg_error) })?;
        Ok(PgConn {
            pg: self,
            client: Arc::new(client),
        })
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        // Dropping a runtime may not block inside another runtime (tests end inside one).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

pub struct PgConn<'a> {
    pg: &'a Pg,
    client: Arc<deadpool_postgres::Object>,
}

/// `?1` → `$1`: the store writes SQLite's numbered placeholders.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl tokio_postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use tokio_postgres::types::Type;
        match self {
            Value::Null => Ok(tokio_postgres::types::IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an integer for a {ty} parameter").into()),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn pg_row(row: &tokio_postgres::Row) -> std::result::Result<Row, tokio_postgres::Error> {
    use tokio_postgres::types::Type;
    let mut out = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let v = match *column.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            _ => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

impl PgConn<'_> {
    fn run<T: Send + 'static>(
        &self,
        sql: &str,
        args: &[Value],
        then: impl FnOnce(Vec<tokio_postgres::Row>, u64) -> Result<T> + Send + 'static,
        query: bool,
    ) -> Result<T> {
        let client = self.client.clone();
        let sql = numbered(sql);
        let args = args.to_vec();
        self.pg.wait(async move {
            let stmt = client.prepare_cached(&sql).await.map_err(pg_error)?;
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
                .iter()
                .map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            if query {
                let rows = client.query(&stmt, &params).await.map_err(pg_error)?;
                then(rows, 0)
            } else {
                let n = client.execute(&stmt, &params).await.map_err(pg_error)?;
                then(vec![], n)
            }
        })
    }

    /// Statements with no arguments, as one batch (`BEGIN`, migrations).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        let client = self.client.clone();
        let sql = sql.to_owned();
        self.pg
            .wait(async move { client.batch_execute(&sql).await.map_err(pg_error) })
    }
}

impl Conn for PgConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn exec(&mut self, sql: &str, args: &[Value]) -> Result<u64> {
        self.run(sql, args, |_, n| Ok(n), false)
    }

    fn rows(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        self.run(
            sql,
            args,
            |rows, _| {
                rows.iter()
                    .map(|r| pg_row(r).map_err(pg_error))
                    .collect::<Result<Vec<_>>>()
            },
            true,
        )
    }
}

// ---- Either ------------------------------------------------------------------------------

/// The database a store keeps its rows in.
pub enum Db {
    Sqlite(Mutex<rusqlite::Connection>),
    Postgres(Pg),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Run `work` on a connection (each statement commits on its own).
    pub fn with<R>(&self, work: impl FnOnce(&mut dyn Conn) -> Result<R>) -> Result<R> {
        match self {
            Db::Sqlite(m) => {
                let conn = m.lock().unwrap_or_else(|e| e.into_inner());
                work(&mut SqliteConn(&conn))
            }
            Db::Postgres(pg) => work(&mut pg.conn()?),
        }
    }

    /// Run `work` in a transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn tx<R, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Conn) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E> {
        match self {
            Db::Sqlite(m) => {
                let mut conn = m.lock().unwrap_or_else(|e| e.into_inner());
                let tx = conn.transaction().map_err(sqlite_error)?;
                let out = work(&mut SqliteConn(&tx))?;
                tx.commit().map_err(sqlite_error)?;
                Ok(out)
            }
            Db::Postgres(pg) => {
                let mut conn = pg.conn()?;
                conn.batch("BEGIN")?;
                match work(&mut conn) {
                    Ok(out) => {
                        conn.batch("COMMIT")?;
                        Ok(out)
                    }
                    Err(e) => {
                        let _ = conn.batch("ROLLBACK");
                        Err(e)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_dollars() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND (?2 IS NULL OR c = ?2) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND ($2 IS NULL OR c = $2) AND d = '?'"
        );
    }

    #[test]
    fn upsert_updates_every_column_but_the_key() {
        assert_eq!(
            upsert(
                "ratings",
                "chatbot_id, visitor_id, rating",
                "chatbot_id, visitor_id"
            ),
            "INSERT INTO ratings (chatbot_id, visitor_id, rating) VALUES (?1, ?2, ?3) ON CONFLICT (chatbot_id, visitor_id) DO UPDATE SET rating = excluded.rating"
        );
    }
}

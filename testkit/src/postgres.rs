//! A throwaway PostgreSQL cluster for one test binary: `initdb` in a temporary directory,
//! `postgres` on a free loopback port with trust authentication; stopped and removed on drop.
//! Debian's `postgresql` package (installed by `cargo xtask setup`) provides the binaries in
//! `/usr/lib/postgresql/<major>/bin`. PostgreSQL refuses to run as root, so as root (CI) the
//! cluster runs as the package's `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    child: Child,
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

/// The newest installed major version's `bin` directory.
fn bin_dir() -> Option<PathBuf> {
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .collect();
    majors.sort();
    majors.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args…`, as the `postgres` user when we are root.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn skip(why: &str) -> Option<Postgres> {
    eprintln!("postgres tests skipped: {why}");
    None
}

impl Postgres {
    /// Start one, or `None` (saying why) when PostgreSQL is not installed or does not start.
    pub fn start() -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            return skip("no /usr/lib/postgresql/*/bin/postgres (Debian's postgresql package)");
        };
        let dir = std::env::temp_dir().join(format!(
            "dgbot-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let data = dir.join("data");
        std::fs::create_dir_all(&dir).ok()?;
        if is_root() {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status();
            if !owned.is_ok_and(|s| s.success()) {
                return skip("cannot give the cluster's directory to the postgres user");
            }
        }
        let init = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match init {
            Ok(o) if o.status.success() => {}
            Ok(o) => return skip(&format!("initdb: {}", String::from_utf8_lossy(&o.stderr))),
            Err(e) => return skip(&format!("initdb: {e}")),
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let log = std::fs::File::create(dir.join("postgres.log")).ok()?;
        let child = as_postgres(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => return skip(&format!("postgres: {e}")),
        };
        let pg = Postgres {
            child,
            dir,
            bin,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ready = Command::new(pg.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
                .status();
            if ready.is_ok_and(|s| s.success()) {
                return Some(pg);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(pg.dir.join("postgres.log")).unwrap_or_default();
        skip(&format!("the server did not start in 30 s:\n{log}"))
    }

    /// A new, empty database called `name`, and its URL.
    pub fn database(&self, name: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\""))
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "CREATE DATABASE {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGQUIT: PostgreSQL's immediate shutdown (the `runuser` parent passes it on).
        let _ = Command::new("pkill")
            .args(["-QUIT", "-P", &self.child.id().to_string()])
            .status();
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

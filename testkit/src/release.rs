//! The release binary as a process, with the shipped configuration on a fresh database: what
//! the load tests measure.

use std::io::BufRead;

/// The release server on a free port with the shipped configuration and a fresh database
/// (`env` may name another, `DGBOT_DATABASE_URL`), and no per-IP limit on visitor tokens
/// unless `env` sets one; killed and its files removed on drop.
pub struct ReleaseServer {
    pub child: std::process::Child,
    pub base: String,
    pub pid: u32,
    pub dir: std::path::PathBuf,
}

impl ReleaseServer {
    /// `binary` is the release server (`env!("CARGO_BIN_EXE_dgbot-server")` in the server's
    /// tests).
    pub fn start(binary: &str, name: &str) -> ReleaseServer {
        Self::start_with(binary, name, &[])
    }

    pub fn start_with(binary: &str, name: &str, env: &[(&str, &str)]) -> ReleaseServer {
        let dir = std::env::temp_dir().join(format!("dgbot-load-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let shipped = std::fs::read_to_string(dgbot_server::config::repo_config()).unwrap();
        let server_dir = dgbot_server::config::repo_config()
            .parent()
            .unwrap()
            .to_path_buf();
        let config = shipped
            .replace(
                "database = \"../target/dgbot.sqlite\"",
                &format!("database = {:?}", dir.join("load.sqlite")),
            )
            .replace(
                "faq = \"demo/kb\"",
                &format!("faq = {:?}", server_dir.join("demo/kb")),
            )
            .replace(
                "catalogue = \"demo/catalogue.json\"",
                &format!("catalogue = {:?}", server_dir.join("demo/catalogue.json")),
            );
        std::fs::write(dir.join("load.toml"), config).unwrap();
        let mut child = std::process::Command::new(binary)
            // The benchmarks' thousand visitors ask for their tokens from one address.
            .env("DGBOT_AUTH_PUBLIC_PER_MINUTE", "1000000")
            .envs(env.iter().copied())
            .env("PORT", "0")
            .env("DGBOT_CONFIG", dir.join("load.toml"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .expect("the widget URL")
            .trim_end_matches([')', ';'])
            .to_owned();
        ReleaseServer {
            child,
            base,
            pid,
            dir,
        }
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

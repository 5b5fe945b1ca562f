//! The real server for a test, as production runs it.

use std::sync::Arc;

use dgbot_server::model::Database;
use dgbot_server::store::Store;
use dgbot_server::{AppState, Chatbot, ServerConfig, SharedState};

use crate::api::Api;

type Configure = Arc<dyn Fn(&mut ServerConfig) + Send + Sync>;

/// How a [`TestServer`] is made: the configuration, the chatbots and the database, kept so that
/// a restart makes the same server again.
#[derive(Clone)]
pub struct Builder {
    configure: Configure,
    chatbots: Vec<Chatbot>,
    database: Option<Database>,
    port: Option<u16>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            configure: Arc::new(|_| {}),
            chatbots: vec![dgbot_server::config::demo_chatbot()],
            database: None,
            port: None,
        }
    }
}

impl Builder {
    /// Change the server's settings (applied after the ones given before).
    pub fn configure(mut self, f: impl Fn(&mut ServerConfig) + Send + Sync + 'static) -> Self {
        let before = self.configure.clone();
        self.configure = Arc::new(move |c| {
            before(c);
            f(c)
        });
        self
    }

    /// Change the demo chatbot (the first chatbot).
    pub fn chatbot(mut self, f: impl FnOnce(&mut Chatbot)) -> Self {
        f(&mut self.chatbots[0]);
        self
    }

    /// Serve these chatbots instead of the demo one.
    pub fn chatbots(mut self, chatbots: Vec<Chatbot>) -> Self {
        self.chatbots = chatbots;
        self
    }

    /// Serve one more chatbot beside the ones already given.
    pub fn also(mut self, chatbot: Chatbot) -> Self {
        self.chatbots.push(chatbot);
        self
    }

    /// Keep the rows in this database (a SQLite file or PostgreSQL) instead of in memory, so a
    /// restart finds them again.
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }

    /// Listen on this port instead of a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The server's state as this builder makes it for `port`, without serving it.
    pub fn state_on(&self, port: u16) -> SharedState {
        let mut config = ServerConfig::for_repo(format!("http://127.0.0.1:{port}"));
        (self.configure)(&mut config);
        let store = match &self.database {
            Some(database) => Store::connect(database)
                .unwrap_or_else(|e| panic!("the test database {database}: {e}")),
            None => Store::in_memory(),
        };
        AppState::start(config, self.chatbots.clone(), store)
            .unwrap_or_else(|e| panic!("the test server: {e}"))
    }

    /// Start it.
    pub fn start(self) -> TestServer {
        let port = self.port.unwrap_or_else(free_port);
        let state = self.state_on(port);
        let thread = ServerThread::serve(port, state.clone());
        let base = format!("http://127.0.0.1:{port}");
        TestServer {
            api: Api::new(&base),
            base,
            port,
            state,
            builder: self,
            thread,
            others: Vec::new(),
        }
    }
}

/// The server on a free loopback port, through `dgbot_server::serve_until`. Dropping it stops
/// it at once (as a crash would).
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub port: u16,
    /// The server's state: the core, and the composition's store handle (for checking what was
    /// kept).
    pub state: SharedState,
    /// A client for the seeds' calls to this server.
    pub api: Api,
    builder: Builder,
    thread: ServerThread,
    /// Other instances (behind [`TestServer::fail_over`]).
    others: Vec<ServerThread>,
}

impl TestServer {
    /// The demo server: the shipped demo chatbot, an in-memory database.
    pub fn start() -> TestServer {
        Builder::default().start()
    }

    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn core(&self) -> &dgbot_server::Core {
        &self.state.core
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Shut down as the server does on SIGTERM: no new connections, requests in flight (SSE
    /// answers included) finish within the drain time, then the server is gone.
    pub fn stop(&mut self) {
        self.thread.stop();
    }

    /// Ask for a graceful shutdown without waiting for it: the future ends once the server has
    /// stopped (for a test that reads a stream while the server drains).
    pub fn shut_down(&mut self) -> impl std::future::Future<Output = ()> + use<> {
        let thread = self.thread.begin_shutdown();
        async move {
            if let Some(thread) = thread {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
        }
    }

    /// End every connection at once, as a crash would.
    pub fn crash(&mut self) {
        self.thread.crash();
    }

    /// Crash and start again on the same port and database, the same way it was built.
    pub fn restart(&mut self) {
        let builder = self.builder.clone();
        self.restart_as(builder);
    }

    /// Crash and start again on the same port and database, with `configure` applied to a
    /// fresh configuration (instead of the one it was built with).
    pub fn restart_with(&mut self, configure: impl Fn(&mut ServerConfig) + Send + Sync + 'static) {
        let builder = Builder {
            configure: Arc::new(configure),
            ..self.builder.clone()
        };
        self.restart_as(builder);
    }

    fn restart_as(&mut self, builder: Builder) {
        self.thread.crash();
        self.state = builder.state_on(self.port);
        self.thread = ServerThread::serve(self.port, self.state.clone());
        self.builder = builder;
    }

    /// This instance crashes and a load balancer sends its port to instance B, already running
    /// on the same PostgreSQL database with `configure` applied to a fresh configuration: the
    /// next request reaches B, and [`TestServer::state`] is B's from then on.
    pub fn fail_over(&mut self, configure: impl Fn(&mut ServerConfig) + Send + Sync + 'static) {
        assert!(
            matches!(self.builder.database, Some(Database::Postgres(_))),
            "two instances share a PostgreSQL database"
        );
        let b = Builder {
            configure: Arc::new(configure),
            ..self.builder.clone()
        };
        let b_port = free_port();
        // B names itself by the public address, as behind a load balancer.
        let b_state = b.state_on(self.port);
        self.others
            .push(ServerThread::serve(b_port, b_state.clone()));
        self.thread.crash();
        self.state = b_state;
        self.thread = ServerThread::forward(self.port, b_port);
        self.builder = b;
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server (or a forwarder) on its own thread and runtime.
struct ServerThread {
    /// Ends the runtime at once (a crash).
    crash: Option<tokio::sync::oneshot::Sender<()>>,
    /// Asks `serve_until` to shut down gracefully.
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn serve(port: u16, state: SharedState) -> ServerThread {
        let (shutdown, requested) = tokio::sync::oneshot::channel::<()>();
        let mut t = Self::run(port, move |listener| async move {
            let requested = async move {
                let _ = requested.await;
            };
            if let Err(e) = dgbot_server::serve_until(listener, state, requested).await {
                panic!("the test server: {e}");
            }
        });
        t.shutdown = Some(shutdown);
        t
    }

    /// A load balancer's view of a dead instance: connections to `port` go to `to` instead.
    fn forward(port: u16, to: u16) -> ServerThread {
        Self::run(port, move |listener| async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", to)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        })
    }

    fn run<F: std::future::Future<Output = ()>>(
        port: u16,
        work: impl FnOnce(tokio::net::TcpListener) -> F + Send + 'static,
    ) -> ServerThread {
        // Bound here, before the thread starts, so the port takes connections on return.
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("127.0.0.1:{port}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let (crash, crashed) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    _ = work(listener) => {}
                    // A dropped sender is not a crash (a graceful stop lets go of it).
                    Ok(()) = crashed => {}
                }
            });
            runtime.shutdown_background();
        });
        ServerThread {
            crash: Some(crash),
            shutdown: None,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        if let Some(thread) = self.begin_shutdown() {
            let _ = thread.join();
        }
    }

    /// Ask `serve_until` to shut down; the thread, to wait for its end.
    fn begin_shutdown(&mut self) -> Option<std::thread::JoinHandle<()>> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // A crash now would cut the drain short: the thread ends on its own.
        self.crash.take();
        self.thread.take()
    }

    fn crash(&mut self) {
        if let Some(crash) = self.crash.take() {
            let _ = crash.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        self.crash();
    }
}

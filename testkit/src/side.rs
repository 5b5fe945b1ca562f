//! A side server for a test: what the real server calls out to (a site owner's webhook
//! receiver or action endpoint, a fake language model API, a website to learn from), served on
//! loopback by any axum router.

/// Serve `router` on a free loopback port; its base URL, `http://127.0.0.1:PORT`. Call it from
/// within the test's Tokio runtime: the side server runs on that runtime, so it ends with the
/// test. Its sockets send small writes at once (`TCP_NODELAY`), as a real API server's do.
pub fn serve(router: axum::Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let listener = tokio::net::TcpListener::from_std(listener)
        .expect("side::serve runs within a Tokio runtime (a #[tokio::test])");
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

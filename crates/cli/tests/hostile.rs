//! A hostile client against `expedite serve` as a process: sockets that say nothing, heads
//! and bodies sent a byte at a time, idle keep-alives, 2,000 idle connections at once, and
//! a SIGTERM while a request is half sent. Nobody holding a socket may hold the server:
//! `/healthz` answers within a second throughout, and a stop takes the shutdown deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EXPEDITE: &str = env!("CARGO_BIN_EXE_expedite");

/// The limits the server runs under here: short, so that the test is quick.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

struct Server {
    child: Child,
    address: String,
    token: String,
    _folder: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        Server::start_with_file_limit(None, extra)
    }

    /// Starts the server, under an open-file limit of its own if one is given.
    fn start_with_file_limit(open_files: Option<u32>, extra: &[&str]) -> Server {
        let folder = tempfile::tempdir().expect("temp dir");
        let db = format!("sqlite://{}", folder.path().join("hostile.db").display());
        let mut args = vec!["serve", "--demo", "--db", &db, "--addr", "127.0.0.1:0"];
        for (flag, default) in [("--header-timeout", "2s"), ("--shutdown-timeout", "2s")] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        args.extend_from_slice(extra);
        let limit = open_files.map(|files| format!("--nofile={files}:{files}"));
        let mut command = match &limit {
            // prlimit sets the limit and then executes the server in its own place.
            Some(limit) => {
                let mut command = Command::new("prlimit");
                command.arg(limit).arg(EXPEDITE);
                command
            }
            None => Command::new(EXPEDITE),
        };
        let mut child = command
            .args(&args)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start expedite serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut token = String::new();
        let address = loop {
            let line = lines.next().expect("a line").expect("readable stdout");
            if let Some(secret) = line.rsplit(": ").next().filter(|s| s.starts_with("exp_")) {
                token = secret.to_owned();
            }
            if let Some(address) = line.strip_prefix("listening on http://") {
                break address.to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            address,
            token,
            _folder: folder,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream
    }

    /// `GET /healthz` on a new connection: the status line and how long it took.
    fn health(&self) -> (String, Duration) {
        let started = Instant::now();
        let mut stream = self.connect();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .expect("send");
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        (
            reply.lines().next().unwrap_or_default().to_owned(),
            started.elapsed(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
fn until_closed(mut stream: TcpStream, started: Instant) -> (String, Duration) {
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    (
        String::from_utf8_lossy(&reply).into_owned(),
        started.elapsed(),
    )
}

fn assert_closed_by_the_header_timeout(what: &str, closed_after: Duration) {
    assert!(
        closed_after >= HEADER_TIMEOUT - Duration::from_millis(200)
            && closed_after < HEADER_TIMEOUT + Duration::from_secs(2),
        "{what}: closed after {closed_after:?}, header timeout {HEADER_TIMEOUT:?}"
    );
}

/// Raises this process's open-file limit (children inherit it) with `prlimit`, since the
/// workspace forbids the unsafe `setrlimit` call.
fn raise_open_file_limit(wanted: u64) {
    let pid = std::process::id().to_string();
    let current = Command::new("prlimit")
        .args([
            "--pid",
            &pid,
            "--nofile",
            "--output",
            "SOFT,HARD",
            "--noheadings",
        ])
        .output()
        .expect("prlimit is installed (util-linux)");
    let text = String::from_utf8_lossy(&current.stdout);
    let mut fields = text.split_whitespace();
    let soft: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let hard: u64 = fields
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    if soft >= wanted {
        return;
    }
    assert!(
        hard >= wanted,
        "the hard open-file limit {hard} is below the {wanted} this test needs"
    );
    let status = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={wanted}:{hard}")])
        .status()
        .expect("prlimit");
    assert!(status.success(), "prlimit could not raise the limit");
}

#[test]
fn idle_sockets_slow_heads_slow_bodies_and_idle_keep_alives_are_closed_on_time() {
    let server = Server::start(&["--body-timeout", "2s"]);

    let idle = server.connect();
    let (sent, closed_after) = until_closed(idle, Instant::now());
    assert_closed_by_the_header_timeout("an idle socket", closed_after);
    assert!(sent.is_empty(), "{sent}");

    // Slowloris: a head that never ends, a header line every 300 ms.
    let mut slow = server.connect();
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").expect("send");
    let writer = std::thread::spawn({
        let mut slow = slow.try_clone().expect("clone");
        move || {
            for n in 0..40 {
                std::thread::sleep(Duration::from_millis(300));
                if slow.write_all(format!("X-{n}: y\r\n").as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    let (_, closed_after) = until_closed(slow, started);
    assert_closed_by_the_header_timeout("a slowloris head", closed_after);
    writer.join().expect("writer");

    // A body that never arrives, from a client with a valid token: 408 with the JSON body.
    let mut body = server.connect();
    let started = Instant::now();
    let head = format!(
        "POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"id\":",
        server.token
    );
    body.write_all(head.as_bytes()).expect("send");
    let (reply, closed_after) = until_closed(body, started);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains(r#""code":"timeout""#), "{reply}");
    assert!(closed_after < Duration::from_secs(4), "{closed_after:?}");

    // An idle keep-alive after one answered request.
    let mut kept = server.connect();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let started = Instant::now();
    let (reply, closed_after) = until_closed(kept, started);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert_closed_by_the_header_timeout("an idle keep-alive", closed_after);

    // Requests hyper cannot parse are answered with the JSON error body too.
    let mut garbage = server.connect();
    garbage.write_all(b"NOT HTTP AT ALL\r\n\r\n").expect("send");
    let (reply, _) = until_closed(garbage, Instant::now());
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(reply.contains(r#""code":"protocol""#), "{reply}");
}

#[test]
fn two_thousand_idle_connections_do_not_keep_healthz_from_answering_within_a_second() {
    raise_open_file_limit(4_500);
    // The server may open 512 files: 2,000 connections held open would exhaust them (as
    // 300 did with a limit of 256 before connections were capped), and the header timeout
    // is long enough that only the cap can make room in time.
    let server = Server::start_with_file_limit(
        Some(512),
        &["--max-connections", "256", "--header-timeout", "60s"],
    );
    let mut idle = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        idle.push(server.connect());
    }
    for _ in 0..5 {
        let (status, took) = server.health();
        assert!(status.starts_with("HTTP/1.1 200"), "healthz: '{status}'");
        assert!(took < Duration::from_secs(1), "healthz took {took:?}");
    }
    drop(idle);
}

#[cfg(unix)]
#[test]
fn sigterm_with_a_half_sent_request_exits_within_the_shutdown_deadline() {
    let mut server = Server::start(&["--body-timeout", "60s", "--request-timeout", "120s"]);
    // One request in progress whose body never completes, one head never finished.
    let mut body = server.connect();
    let head = format!(
        "POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{",
        server.token
    );
    body.write_all(head.as_bytes()).expect("send");
    let mut half_head = server.connect();
    half_head
        .write_all(b"GET /healthz HTTP/1.1\r\nHost")
        .expect("send");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = server.child.wait().expect("wait");
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < SHUTDOWN_TIMEOUT + Duration::from_secs(2),
        "stopped after {took:?}, deadline {SHUTDOWN_TIMEOUT:?}"
    );
    drop((body, half_head));
}

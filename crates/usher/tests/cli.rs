//! The real `usher` binary: first start prints a setup link, `admin create` reads a
//! password from stdin, `migrate` is idempotent, and the server serves what was created.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Stdio},
};

const BIN: &str = env!("CARGO_BIN_EXE_usher");

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `usher serve` on port 0 and reads its log until it is listening.
fn serve(data_dir: &std::path::Path) -> (Running, String, Option<String>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("NO_COLOR", "1")
        .env_remove("USHER_DATABASE_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("usher serve starts");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut address = None;
    let mut link = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("address=").nth(1) {
            address = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
        if let Some(pos) = line.find("http://")
            && line.contains("/setup/")
        {
            link = Some(line[pos..].trim().to_owned());
        }
        if address.is_some() {
            break;
        }
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Running(child), format!("http://{}", address.expect("listening address in the log")), link)
}

#[tokio::test]
async fn first_start_setup_link_admin_create_and_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, link) = serve(dir.path());
    let link = link.expect("a fresh server prints a setup link");
    assert!(link.starts_with(&base) || link.contains("/setup/"), "{link}");
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(dir.path().join("usher.db").exists(), "SQLite file in the data folder");
    drop(server);

    let out = Command::new(BIN).args(["migrate", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let weak = admin_create(dir.path(), "root", "root@example.org", "root");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"), "{}", String::from_utf8_lossy(&weak.stderr));
    let bad_email = admin_create(dir.path(), "root", "not-an-email", "correct horse battery staple");
    assert!(!bad_email.status.success());
    let ok = admin_create(dir.path(), "root", "root@example.org", "correct horse battery staple");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Administrator root created"));

    let (_server, base, link) = serve(dir.path());
    assert!(link.is_none(), "no setup link once an administrator exists");
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "login": "ROOT@example.org", "password": "correct horse battery staple" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["roles"], serde_json::json!(["administrator"]));
}

fn admin_create(dir: &std::path::Path, user_id: &str, email: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["admin", "create", "--user-id", user_id, "--email", email, "--password-stdin", "--data-dir"])
        .arg(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

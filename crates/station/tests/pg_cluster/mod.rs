//! Throw-away PostgreSQL servers of a test's own, on loopback: one with TLS only, or a
//! primary with a synchronous streaming standby (pg_basebackup), which a test stops and
//! promotes. The server binaries come from scripts/with-postgres.sh
//! (LIFEBRIDGE_TEST_PGBIN); without them the tests that need these servers skip.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// The folder of `initdb`, `pg_ctl`, `pg_basebackup`, or `None` with a notice.
pub fn pgbin() -> Option<PathBuf> {
    match std::env::var_os("LIFEBRIDGE_TEST_PGBIN") {
        Some(bin) => Some(PathBuf::from(bin)),
        None => {
            eprintln!(
                "NOTICE: LIFEBRIDGE_TEST_PGBIN is not set (scripts/with-postgres.sh sets it); \
                 skipping a test that runs PostgreSQL servers of its own"
            );
            None
        }
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A command run as the `postgres` user when the test runs as root (PostgreSQL refuses
/// to run as root; scripts/with-postgres.sh creates the user).
fn as_pg(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A folder the `postgres` user owns (mode 0700, as PostgreSQL wants its data folder).
fn pg_dir(path: &Path) {
    if is_root() {
        let mut c = Command::new("install");
        c.args(["-d", "-m", "700", "-o", "postgres", "-g", "postgres"])
            .arg(path);
        run(c, "install -d");
    } else {
        std::fs::create_dir_all(path).unwrap();
    }
}

/// Hands a file the test wrote to the `postgres` user (a TLS key must be its own).
pub fn give_to_pg(path: &Path) {
    if is_root() {
        let mut c = Command::new("chown");
        c.arg("postgres:postgres").arg(path);
        run(c, "chown");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Cluster {
    pub port: u16,
    pub data: PathBuf,
    bin: PathBuf,
    _root: TempDir,
}

impl Cluster {
    fn new(bin: &Path) -> Cluster {
        let root = tempfile::tempdir().unwrap();
        // The postgres user must reach the data folder inside the test's folder.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = root.path().join("data");
        pg_dir(&data);
        Cluster {
            port: free_port(),
            data,
            bin: bin.to_owned(),
            _root: root,
        }
    }

    /// A new cluster (`initdb`, trust authentication), not started; `conf` is appended
    /// to its postgresql.conf.
    pub fn init(bin: &Path, conf: &str) -> Cluster {
        let cluster = Cluster::new(bin);
        let mut c = as_pg(&bin.join("initdb"));
        c.arg("-D").arg(&cluster.data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(c, "initdb");
        cluster.append_conf(conf);
        cluster
    }

    /// A streaming standby of `primary` (`pg_basebackup -R`), not started; `conf` is
    /// appended to its postgresql.conf.
    pub fn standby_of(primary: &Cluster, conf: &str) -> Cluster {
        let cluster = Cluster::new(&primary.bin);
        let mut c = as_pg(&primary.bin.join("pg_basebackup"));
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &primary.port.to_string(),
            "-U",
            "postgres",
        ])
        .arg("-D")
        .arg(&cluster.data)
        .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"]);
        run(c, "pg_basebackup");
        cluster.append_conf(conf);
        cluster
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.data.join(name)
    }

    /// Writes a file into the data folder, owned by the `postgres` user.
    pub fn write(&self, name: &str, text: &str) {
        let path = self.file(name);
        std::fs::write(&path, text).unwrap();
        give_to_pg(&path);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    fn append_conf(&self, conf: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.file("postgresql.conf"))
            .unwrap();
        writeln!(f, "\n{conf}").unwrap();
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut c = as_pg(&self.bin.join("pg_ctl"));
        c.arg("-D").arg(&self.data).args(args);
        c
    }

    pub fn start(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k /tmp -c max_connections=60",
            self.port
        );
        let log = self.file("server.log");
        let mut c = self.pg_ctl(&["-w", "-t", "60", "-o", &options, "-l"]);
        c.arg(&log).arg("start");
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// `mode`: `fast` (clients told, then disconnected) or `immediate` (as a crash).
    pub fn stop(&self, mode: &str) {
        run(self.pg_ctl(&["-m", mode, "-w", "stop"]), "pg_ctl stop");
    }

    pub fn promote(&self) {
        run(
            self.pg_ctl(&["-w", "-t", "60", "promote"]),
            "pg_ctl promote",
        );
    }

    pub fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres{query}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]).output();
    }
}

/// A test certificate authority and a server certificate it signed for `names`
/// (`subjectAltName` syntax), made with the openssl command docs/postgres.md shows; `None`
/// when openssl is not installed. Files: `ca.pem`, `server.pem`, `server-key.pem`.
pub fn make_ca_and_server_cert(dir: &Path, ca_name: &str, names: &str) -> Option<()> {
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| ())
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let subject = format!("/CN={ca_name}");
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-days", "30", "-subj", &subject],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            &["-keyout", "ca-key.pem", "-out", "ca.pem"],
        ]
        .concat(),
    )?;
    openssl(
        &[
            &["req"][..],
            &ec,
            &["-subj", "/CN=lifebridge-db"],
            &["-keyout", "server-key.pem", "-out", "server.csr"],
        ]
        .concat(),
    )?;
    std::fs::write(
        dir.join("server.ext"),
        format!(
            "subjectAltName={names}\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .ok()?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ])
}

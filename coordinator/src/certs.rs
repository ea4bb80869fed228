//! `coordinator certs`: the one-shot setup of a distributed run's trust. Writes a fresh CA, a
//! server certificate for the coordinator's listener, one client certificate per agent and a
//! random bearer token, ready for a plan's `coordinator:` section and the agents' `--tls-*` and
//! `--token-file` flags:
//!
//! ```text
//! DIR/ca.pem                      the CA certificate (plan: tls.client_ca; agents: --tls-ca)
//! DIR/server.pem, server.key      the coordinator's certificate (plan: tls.cert, tls.key)
//! DIR/<agent>.pem, <agent>.key    one client certificate per agent (--tls-cert, --tls-key)
//! DIR/token                       the shared bearer token (plan: token_file; --token-file)
//! ```
//!
//! The CA's private key is never written: to add agents later, run the command again (with
//! `--force`) and hand out the new files. Private keys and the token are written mode 0600.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// `coordinator certs` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct CertsArgs {
    /// Folder to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Agent names, comma separated: one client certificate `<name>.pem` + `<name>.key` each.
    #[arg(
        long,
        value_name = "NAME,...",
        value_delimiter = ',',
        default_value = "agent"
    )]
    pub agents: Vec<String>,
    /// Host names and IP addresses the coordinator's server certificate is valid for (the host
    /// agents dial in `--coordinator https://HOST:PORT`, or their `--tls-domain`).
    #[arg(
        long,
        value_name = "NAME,...",
        value_delimiter = ',',
        default_value = "localhost,127.0.0.1"
    )]
    pub server_names: Vec<String>,
    /// Days the certificates stay valid (from yesterday, to tolerate clock skew).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
    /// Do not write a bearer token file.
    #[arg(long)]
    pub no_token: bool,
    /// Replace files that already exist in DIR.
    #[arg(long)]
    pub force: bool,
}

/// One file to write.
struct Out {
    name: String,
    contents: String,
    secret: bool,
}

/// Generates everything `args` asks for and writes it; prints what was written.
pub fn run_certs(args: &CertsArgs) -> anyhow::Result<()> {
    let files = generate(args)?;
    write_all(&args.out, &files, args.force)?;
    println!("wrote to {}:", args.out.display());
    for f in &files {
        println!(
            "  {}{}",
            f.name,
            if f.secret {
                "  (secret, mode 0600)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn check_name(kind: &str, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!name.is_empty(), "{kind} name must not be empty");
    anyhow::ensure!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
        "{kind} name {name:?}: use letters, digits, '-', '_' and '.' only"
    );
    anyhow::ensure!(
        !name.starts_with('.'),
        "{kind} name {name:?} must not start with '.'"
    );
    Ok(())
}

fn generate(args: &CertsArgs) -> anyhow::Result<Vec<Out>> {
    let agents: Vec<String> = args.agents.iter().map(|a| a.trim().to_string()).collect();
    anyhow::ensure!(!agents.is_empty(), "--agents names no agent");
    for (i, a) in agents.iter().enumerate() {
        check_name("agent", a)?;
        anyhow::ensure!(
            !matches!(a.as_str(), "ca" | "server" | "token"),
            "agent name {a:?} is reserved (ca, server, token)"
        );
        anyhow::ensure!(
            !agents[..i].contains(a),
            "agent name {a:?} given more than once"
        );
    }
    let server_names: Vec<String> = args
        .server_names
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    anyhow::ensure!(!server_names.is_empty(), "--server-names names no host");

    let today = time::OffsetDateTime::now_utc().date();
    let ca_key = KeyPair::generate().context("generating the CA key")?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "swarmbench CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut ca, today, args.days);
    let ca_cert = ca.self_signed(&ca_key).context("self-signing the CA")?;
    let issuer = Issuer::new(ca, ca_key);

    let mut files = vec![Out {
        name: "ca.pem".into(),
        contents: ca_cert.pem(),
        secret: false,
    }];
    let leaf = |names: Vec<String>,
                cn: &str,
                usage: ExtendedKeyUsagePurpose,
                stem: &str,
                files: &mut Vec<Out>|
     -> anyhow::Result<()> {
        let key = KeyPair::generate().context("generating a key")?;
        let mut p =
            CertificateParams::new(names).with_context(|| format!("{stem}: invalid host name"))?;
        p.distinguished_name.push(DnType::CommonName, cn);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![usage];
        set_validity(&mut p, today, args.days);
        let cert = p
            .signed_by(&key, &issuer)
            .with_context(|| format!("signing {stem}"))?;
        files.push(Out {
            name: format!("{stem}.pem"),
            contents: cert.pem(),
            secret: false,
        });
        files.push(Out {
            name: format!("{stem}.key"),
            contents: key.serialize_pem(),
            secret: true,
        });
        Ok(())
    };
    leaf(
        server_names.clone(),
        &server_names[0],
        ExtendedKeyUsagePurpose::ServerAuth,
        "server",
        &mut files,
    )?;
    for a in &agents {
        leaf(
            vec![a.clone()],
            a,
            ExtendedKeyUsagePurpose::ClientAuth,
            a,
            &mut files,
        )?;
    }
    if !args.no_token {
        files.push(Out {
            name: "token".into(),
            contents: format!("{}\n", crate::cluster::server::random_token()),
            secret: true,
        });
    }
    Ok(files)
}

/// Valid from yesterday (UTC midnight, to tolerate clock skew) to `days` days after today.
fn set_validity(p: &mut CertificateParams, today: time::Date, days: u32) {
    let midnight = |d: time::Date| d.midnight().assume_utc();
    p.not_before = midnight(today - time::Duration::days(1));
    p.not_after = midnight(today + time::Duration::days(i64::from(days)));
}

fn write_all(dir: &Path, files: &[Out], force: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if !force {
        let existing: Vec<&str> = files
            .iter()
            .filter(|f| dir.join(&f.name).exists())
            .map(|f| f.name.as_str())
            .collect();
        anyhow::ensure!(
            existing.is_empty(),
            "{} already holds {}: pass --force to replace (every agent and the coordinator then \
             need the new files)",
            dir.display(),
            existing.join(", ")
        );
    }
    for f in files {
        let path = dir.join(&f.name);
        write_file(&path, f.contents.as_bytes(), f.secret)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Writes `bytes` to `path`, readable by its owner only when `secret`.
#[cfg(unix)]
pub(crate) fn write_file(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode = if secret { 0o600 } else { 0o644 };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    // an existing file keeps its old mode on open: set it explicitly
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_file(path: &Path, bytes: &[u8], _secret: bool) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path) -> CertsArgs {
        CertsArgs {
            out: dir.to_path_buf(),
            agents: vec!["eu-1".into(), "us-1".into()],
            server_names: vec!["coordinator".into(), "localhost".into(), "127.0.0.1".into()],
            days: 30,
            no_token: false,
            force: false,
        }
    }

    #[test]
    fn civil_dates() {
        // valid from the day before to `days` after, at UTC midnight, across a leap day
        let day = |n: i64| {
            time::OffsetDateTime::from_unix_timestamp(n * 86_400)
                .expect("in range")
                .date()
        };
        assert_eq!(day(19_782).to_string(), "2024-02-29");
        let mut p = CertificateParams::default();
        set_validity(&mut p, day(19_783), 1);
        assert_eq!(p.not_before.to_string(), "2024-02-29 0:00:00.0 +00:00:00");
        assert_eq!(p.not_after.to_string(), "2024-03-02 0:00:00.0 +00:00:00");
        assert_eq!(day(-1).to_string(), "1969-12-31");
    }

    #[test]
    fn writes_everything_and_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let a = args(tmp.path());
        run_certs(&a).unwrap();
        for f in [
            "ca.pem",
            "server.pem",
            "server.key",
            "eu-1.pem",
            "eu-1.key",
            "us-1.pem",
            "us-1.key",
            "token",
        ] {
            assert!(tmp.path().join(f).is_file(), "{f}");
        }
        let token = std::fs::read_to_string(tmp.path().join("token")).unwrap();
        assert_eq!(token.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |f: &str| {
                std::fs::metadata(tmp.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode("server.key"), 0o600);
            assert_eq!(mode("token"), 0o600);
            assert_eq!(mode("ca.pem"), 0o644);
        }
        let err = run_certs(&a).unwrap_err().to_string();
        assert!(err.contains("--force"), "{err}");
        run_certs(&CertsArgs { force: true, ..a }).unwrap();
    }

    #[test]
    fn refuses_bad_names() {
        let tmp = tempfile::tempdir().unwrap();
        for bad in ["", "a/b", "ca", "../x", ".hidden"] {
            let a = CertsArgs {
                agents: vec![bad.into()],
                ..args(tmp.path())
            };
            assert!(generate(&a).is_err(), "{bad:?}");
        }
        let dup = CertsArgs {
            agents: vec!["a".into(), "a".into()],
            ..args(tmp.path())
        };
        assert!(generate(&dup).is_err());
    }
}

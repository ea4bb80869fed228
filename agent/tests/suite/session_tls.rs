//! The session over mTLS: the agent verifies the coordinator against the given CA and name, and
//! presents its client certificate; without one the coordinator never sees a session.

use crate::session_fake;

use std::sync::atomic::Ordering;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use session_fake::Fake;
use swarm_agent::session::{AgentConfig, Backoff, run_agent};
use swarm_agent::transport::ClientTls;
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{Drain, Welcome};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn leaf(
    name: &str,
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'_, KeyPair>,
) -> (String, String) {
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    params.extended_key_usages.push(usage);
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    Pki {
        ca_pem: ca_cert.pem(),
        server: leaf(
            "coordinator.test",
            ExtendedKeyUsagePurpose::ServerAuth,
            &issuer,
        ),
        client: leaf("agent-t", ExtendedKeyUsagePurpose::ClientAuth, &issuer),
    }
}

fn config(fake: &Fake, pki: &Pki, with_client_cert: bool) -> AgentConfig {
    let mut cfg = AgentConfig::new(format!("https://{}", fake.addr), "agent-t");
    cfg.tls = Some(ClientTls {
        ca_pem: pki.ca_pem.clone().into_bytes(),
        cert_pem: with_client_cert.then(|| pki.client.0.clone().into_bytes()),
        key_pem: with_client_cert.then(|| pki.client.1.clone().into_bytes()),
        domain: Some("coordinator.test".into()),
    });
    cfg.reconnect = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
    };
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_session_opens_and_one_without_a_client_cert_does_not() {
    let pki = pki();
    let server_tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(&pki.server.0, &pki.server.1))
        .client_ca_root(Certificate::from_pem(&pki.ca_pem));
    let mut fake = Fake::start_with(Some(server_tls)).await;

    // no client certificate: the handshake fails and the coordinator sees no session
    let mut anonymous = config(&fake, &pki, false);
    anonymous.max_sessions = Some(1);
    let r = tokio::time::timeout(
        Duration::from_secs(8),
        run_agent(anonymous, CancellationToken::new()),
    )
    .await
    .expect("gives up after one session");
    // (the client sees an alert or a closed connection, depending on timing)
    let e = format!(
        "{:#}",
        r.expect_err("session without a client certificate opened")
    );
    assert!(
        e.contains("session call failed") || e.contains("connecting to"),
        "{e}"
    );
    assert_eq!(fake.opened.load(Ordering::SeqCst), 0);

    let mut cfg = config(&fake, &pki, true);
    cfg.max_sessions = Some(1);
    let agent = tokio::spawn(run_agent(cfg, CancellationToken::new()));
    let mut s = fake.session().await;
    let Some(Msg::Hello(h)) = s.raw().await else {
        panic!("no hello over mtls")
    };
    assert_eq!(h.agent_id, "agent-t");
    s.send(CMsg::Welcome(Welcome {
        run_id: "run-t".into(),
        coordinator_unix_us: s.now(),
        heartbeat_ms: 50,
        progress_ms: 50,
    }));
    s.send(CMsg::Drain(Drain {
        reason: "done".into(),
    }));
    assert!(s.next().await.is_none());
    s.close();
    let r = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent returns after drain")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
}

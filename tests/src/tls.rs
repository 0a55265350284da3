//! HTTPS for fakes: a certificate for `127.0.0.1` that no CA signed (made afresh per server with
//! rcgen), served through rustls, as a self-hosted server with a self-signed certificate is.

use std::{io, net::SocketAddr, sync::Arc};

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

/// A TCP listener that completes a TLS handshake before handing a connection to axum; a client
/// that refuses the certificate is dropped and the next connection accepted.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    pub fn local_addr(&self) -> SocketAddr {
        self.tcp.local_addr().expect("local address")
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A listener on `127.0.0.1` with a fresh self-signed certificate, and that certificate's PEM.
pub async fn self_signed_listener() -> (TlsListener, String) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("self-signed certificate");
    let pem = made.cert.pem();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(made.key_pair.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![made.cert.der().clone()], key.into())
    .expect("server certificate");
    let tcp = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind TLS listener");
    (
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        },
        pem,
    )
}

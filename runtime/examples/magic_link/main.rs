//! A third-party plugin on the public plugin API: magic-link sign-in
//! (`plugin.rs`), mounted beside the built-in ones. This tour starts the app
//! on a SQLite file, signs a user up, asks for a link, follows the emailed
//! link, and shows the session it opened.
//!
//! Run: `cargo run -p better-auth --example magic_link`

// Written as it would be in its own crate, so its items are `pub`.
#[allow(unreachable_pub)]
mod plugin;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use better_auth::email::MemoryEmailSender;
use better_auth::integrations::axum::AxumIntegration;
use better_auth::plugins::{EmailPasswordPlugin, SessionManagementPlugin};
use better_auth::store::Database;
use better_auth::{AuthConfig, BetterAuth, run_migrations};
use serde_json::{Value, json};

use plugin::MagicLinkPlugin;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let database = Database::connect(&format!(
        "sqlite://{}",
        dir.path().join("auth.db").display()
    ))
    .await?;
    run_migrations(&database).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    // Mail goes to memory here, so the tour can follow the link; an app passes its own sender.
    let outbox = MemoryEmailSender::new();
    let auth = Arc::new(
        BetterAuth::new(
            AuthConfig::new("magic-link-example-secret-0123456789")
                .base_url(&base)
                .base_path("/api/auth")
                .email_sender(Arc::new(outbox.clone())),
        )
        .database(database)
        .plugin(EmailPasswordPlugin::new())
        .plugin(SessionManagementPlugin::new())
        .plugin(MagicLinkPlugin::new().lifetime(Duration::from_secs(10 * 60)))
        .build()
        .await?,
    );
    let app = Router::new()
        .nest("/api/auth", auth.axum_router())
        .with_state(auth);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    println!("serving   {base}");

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let email = "ada@example.com";
    client
        .post(format!("{base}/api/auth/sign-up/email"))
        .json(&json!({ "email": email, "password": "correct horse battery", "name": "Ada" }))
        .send()
        .await?
        .error_for_status()?;
    println!("signed up {email}");

    let answer: Value = client
        .post(format!("{base}/api/auth/sign-in/magic-link"))
        .json(&json!({ "email": email, "callbackURL": "/dashboard" }))
        .send()
        .await?
        .json()
        .await?;
    println!("asked for a link: {answer}");

    let mail = outbox
        .wait_for(email, 1)
        .await
        .ok_or("no magic-link email arrived")?;
    println!("emailed   {}", mail.url);

    let landing = client.get(&mail.url).send().await?;
    let location = landing
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let token = landing
        .headers()
        .get("set-auth-token")
        .and_then(|v| v.to_str().ok())
        .ok_or("the link set no session")?
        .to_owned();
    println!("followed  {} -> {location}", landing.status());

    let session: Value = client
        .get(format!("{base}/api/auth/get-session"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    println!("signed in as {}", session["user"]["email"]);

    let again = client.get(&mail.url).send().await?;
    println!(
        "the link a second time -> {}",
        again
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    );
    Ok(())
}

//! Every future of the public API is `Send`, so it can be awaited inside
//! `tokio::spawn`, an Axum handler or any multi-threaded executor. The checks
//! are made on futures built with real arguments and dropped unpolled; the
//! last test awaits the setup inside a spawned task.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use better_auth::http::request::Parts;
use better_auth::http::{HeaderMap, Method};
use better_auth::integrations::axum::{
    Authenticated, CurrentSession, MaybeAuthenticated, OptionalSession,
};
use better_auth::store::accounts::{NewAccount, PasswordChange};
use better_auth::store::users::NewUser;
use better_auth::store::{Database, accounts, sessions, users, verifications};
use better_auth::{AuthConfig, AuthRequest, BetterAuth, run_migrations};
use chrono::Utc;

use crate::common::{Backend, SECRET, TestDb};

fn assert_send<T: Send>(_: &T) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_and_migration_futures_are_send() {
    assert_send(&Database::connect("sqlite::memory:"));
    assert_send(&Database::share_sqlite(
        sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap(),
    ));
    let db = Database::connect("sqlite::memory:").await.unwrap();
    assert_send(&run_migrations(&db));
    assert_send(&better_auth::store::migration_status(&db));
    assert_send(&db.close());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_and_extractor_futures_are_send() {
    let db = TestDb::open(Backend::Sqlite).await.unwrap();
    let builder = BetterAuth::new(AuthConfig::new(SECRET)).database(db.database.clone());
    let build = builder.build();
    assert_send(&build);
    let auth = build.await.unwrap();

    let route = &auth.routes()[0];
    let request = AuthRequest::new(Method::GET);
    assert_send(&auth.admit(route, &request));
    assert_send(&auth.respond(route, request.clone()));
    assert_send(&auth.handle(route, request.clone()));

    let (mut parts, ()) = better_auth::http::Request::new(()).into_parts();
    assert_send(&CurrentSession::from_parts(&auth, &mut parts));
    let mut parts: Parts = better_auth::http::Request::new(()).into_parts().0;
    assert_send(&OptionalSession::from_parts(&auth, &mut parts));
    let mut parts: Parts = better_auth::http::Request::new(()).into_parts().0;
    assert_send(&Authenticated::from_request_parts(&mut parts, &()));
    let mut parts: Parts = better_auth::http::Request::new(()).into_parts().0;
    assert_send(&MaybeAuthenticated::from_request_parts(&mut parts, &()));

    // The context plugins are written against (`BetterAuth` derefs to it).
    let ctx = auth.context();
    let headers = HeaderMap::new();
    let user = better_auth::prelude::User::new("u", "Ada", "ada@example.com", Utc::now());
    assert_send(&ctx.session_for_token("t", true));
    assert_send(&ctx.session_from_headers(&headers));
    assert_send(&ctx.require_session(&request));
    assert_send(&ctx.create_session(&user, &request));
    assert_send(&ctx.issue_token("p", "v", Duration::from_secs(60)));
    assert_send(&ctx.consume_token("p", "t"));
    assert_send(&ctx.peek_token("p", "t"));
    assert_send(&ctx.check_password_attempt("a", "pw", None));
    assert_send(&ctx.check_password_attempt_with("a", "pw", || async {
        Ok::<_, better_auth::Error>(((), None))
    }));
    assert_send(&ctx.clear_password_attempts("a"));
    let detached = ctx.detached();
    assert_send(&detached.issue_token("p", "v", Duration::from_secs(60)));
    assert_send(&detached.send_email(better_auth::email::Email::link(
        better_auth::email::EmailKind::PasswordReset,
        "ada@example.com",
        "subject",
        "action",
        "https://example.com",
    )));

    let hasher = auth.password_hasher();
    assert_send(&hasher.hash("pw"));
    assert_send(&hasher.verify("pw", "stored"));
    assert_send(&hasher.verify_dummy("pw"));

    assert_send(&better_auth::email::MemoryEmailSender::new().wait_for("a", 1));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_futures_are_send() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let db = &db;
    let now = Utc::now();
    let session = better_auth::prelude::Session::new("s", "digest", "u", now, now);
    let new_user = || NewUser::new("Ada", "ada@example.com");
    let account = NewAccount::new("github", "1");
    let change = PasswordChange::new("u", "hash", now).end_sessions(true);

    assert_send(&sessions::create(db, &session));
    assert_send(&sessions::find_with_user(db, "digest"));
    assert_send(&sessions::list_active_for_user(db, "u", now));
    assert_send(&sessions::find_by_id(db, "s"));
    assert_send(&sessions::list_for_user(db, "u"));
    assert_send(&sessions::extend(db, "s", now, now));
    assert_send(&sessions::extend_expiry(db, "s", now));
    assert_send(&sessions::delete_by_digest(db, "digest"));
    assert_send(&sessions::delete_by_id(db, "s"));
    assert_send(&sessions::delete_for_user_by_digest(db, "u", "digest"));
    assert_send(&sessions::delete_for_user(db, "u", None));
    assert_send(&sessions::delete_expired(db, now));

    assert_send(&users::find_by_email(db, "ada@example.com"));
    assert_send(&users::find_by_id(db, "u"));
    assert_send(&users::find_with_password(db, "ada@example.com"));
    assert_send(&users::list(db));
    assert_send(&users::create_with_password(db, new_user(), "hash", now));
    assert_send(&users::update_profile(
        db,
        "u",
        Some("Ada"),
        None,
        &Default::default(),
        now,
    ));
    assert_send(&users::set_email(db, "u", "ada@example.com", true, now));
    assert_send(&users::delete(db, "u"));
    assert_send(&users::create_with_account(db, new_user(), &account, now));
    assert_send(&users::mark_email_verified(db, "u", now));

    assert_send(&accounts::list_for_user(db, "u"));
    assert_send(&accounts::credential_password(db, "u"));
    assert_send(&accounts::set_credential_password(db, "u", "hash", now));
    assert_send(&accounts::set_credential_password_and_end_sessions(
        db, "u", "hash", now,
    ));
    assert_send(&accounts::change_password(db, &change));
    assert_send(&accounts::delete_for_user(db, "u", "github", None));
    assert_send(&accounts::find_by_provider_account(db, "github", "1"));
    assert_send(&accounts::create(db, "u", &account, now));
    assert_send(&accounts::set_scope(db, "a", None, now));
    assert_send(&accounts::provider_ids_by_user(db));

    assert_send(&verifications::create(db, "id", "value", now, now));
    assert_send(&verifications::consume(db, "id", now));
    assert_send(&verifications::peek(db, "id", now));
    assert_send(&verifications::delete_for_user(db, "u", &["p"]));
}

/// The setup an app writes in `main`, run inside `tokio::spawn`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_runs_inside_tokio_spawn() {
    let task = tokio::spawn(async move {
        let db = Database::connect("sqlite::memory:").await?;
        run_migrations(&db).await?;
        let status = better_auth::store::migration_status(&db).await?;
        assert!(status.iter().all(|m| m.is_applied()));
        let auth = Arc::new(
            BetterAuth::new(AuthConfig::new(SECRET))
                .database(db.clone())
                .build()
                .await?,
        );
        let (mut parts, ()) = better_auth::http::Request::new(()).into_parts();
        let OptionalSession(session) = OptionalSession::from_parts(&auth, &mut parts).await;
        assert!(session.is_none());
        db.close().await;
        Ok::<_, better_auth::Error>(())
    });
    task.await.unwrap().unwrap();
}

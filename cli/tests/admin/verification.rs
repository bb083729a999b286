//! `better-auth verification purge --expired` (S50): expired tokens go, live
//! ones stay, on SQLite and PostgreSQL.

use better_auth::store::{Database, verifications};
use better_auth_test_support::all_backends;
use chrono::{Duration, Utc};

use crate::common::{TestDb, block_on, show, text, with_db};

/// Stores tokens expiring at each offset from now; returns how many there are.
fn add_tokens(db: &TestDb, offsets: &[Duration]) -> usize {
    let url = db.url.clone();
    let offsets = offsets.to_vec();
    block_on(async move {
        let database = Database::connect(&url).await.unwrap();
        let now = Utc::now();
        for (i, offset) in offsets.iter().enumerate() {
            let identifier = format!("social-state:test-{i}");
            verifications::create(&database, &identifier, "{}", now + *offset, now)
                .await
                .unwrap();
        }
        database.close().await;
        offsets.len()
    })
}

/// Whether the token `test-{i}` is still stored.
fn stored(db: &TestDb, i: usize) -> bool {
    let url = db.url.clone();
    block_on(async move {
        let database = Database::connect(&url).await.unwrap();
        let identifier = format!("social-state:test-{i}");
        // Far in the past: expired rows are found too.
        let found = verifications::peek(&database, &identifier, Utc::now() - Duration::days(3650))
            .await
            .unwrap();
        database.close().await;
        found.is_some()
    })
}

all_backends!(
    s50_verification_purge_deletes_expired_tokens,
    with_db,
    |db: TestDb| {
        db.ok(&["migrate"]);
        add_tokens(
            &db,
            &[
                Duration::seconds(-5),
                Duration::days(-30),
                Duration::minutes(10),
            ],
        );
        // Without --expired nothing is purged: a usage error.
        let out = db.run(&["verification", "purge", "--yes"]);
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        assert!(stored(&db, 0));

        let out = db.run(&["verification", "purge", "--expired", "--yes"]);
        assert!(out.status.success(), "{}", show(&out));
        assert_eq!(
            text(&out.stdout),
            "Deleted 2 expired tokens\n",
            "{}",
            show(&out)
        );
        assert!(
            !stored(&db, 0) && !stored(&db, 1),
            "expired tokens are gone"
        );
        assert!(stored(&db, 2), "a live token stays");

        let out = db.run(&["verification", "purge", "--expired", "--yes"]);
        assert_eq!(
            text(&out.stdout),
            "Deleted 0 expired tokens\n",
            "{}",
            show(&out)
        );

        // Without a terminal to ask on, --yes is needed.
        let err = db.fails(&["verification", "purge", "--expired"], "");
        assert!(err.contains("--yes"), "{err}");
    }
);

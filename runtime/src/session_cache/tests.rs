//! Unit tests of the session cache: ttl and validated entries, renewal,
//! capacity and the maximum entry age.

use super::*;
use chrono::Utc;

fn pair(id: &str) -> (Session, User) {
    let now = Utc::now();
    let user = User {
        id: format!("u-{id}"),
        name: "N".into(),
        email: format!("{id}@example.com"),
        email_verified: false,
        image: None,
        created_at: now,
        updated_at: now,
        fields: Default::default(),
    };
    let session = Session {
        id: id.into(),
        token: format!("digest-{id}"),
        user_id: user.id.clone(),
        expires_at: now,
        created_at: now,
        updated_at: now,
        ip_address: None,
        user_agent: None,
        fields: Default::default(),
    };
    (session, user)
}

#[test]
fn serves_within_ttl_then_misses() {
    let cache = SessionCache::new(Duration::from_millis(50));
    let (s, u) = pair("a");
    cache.insert("d", &s, &u);
    assert_eq!(cache.get("d").map(|f| f.0.id.clone()).as_deref(), Some("a"));
    std::thread::sleep(Duration::from_millis(60));
    assert!(cache.get("d").is_none());
}

#[test]
fn ttl_is_clamped_and_remove_works() {
    let cache = SessionCache::new(Duration::from_secs(60));
    assert_eq!(cache.ttl(), MAX_TTL);
    let (s, u) = pair("a");
    cache.insert("d", &s, &u);
    cache.remove("d");
    assert!(cache.get("d").is_none());
}

#[test]
fn bounded() {
    let cache = SessionCache::with_capacity(Duration::from_secs(1), 3);
    for i in 0..10 {
        let (s, u) = pair(&i.to_string());
        cache.insert(&i.to_string(), &s, &u);
        assert!(cache.len() <= 3);
    }
    assert!(cache.get("9").is_some());
}

#[test]
fn a_ttl_entry_is_renewed_past_its_ttl_only_while_the_counter_has_not_moved() {
    let cache = SessionCache::new(Duration::from_millis(40));
    let (s, u) = pair("a");
    cache.insert_with_body("counted", Some(5), &s, &u);
    cache.insert_with_body("uncounted", None, &s, &u);
    // Within the ttl both are served without asking for the counter.
    let never = || -> Option<i64> { panic!("read the counter within the ttl") };
    assert!(cache.get_renewing("counted", never).is_some());
    assert!(cache.get_renewing("uncounted", never).is_some());
    std::thread::sleep(Duration::from_millis(50));
    // Past it: no counter stored, or the counter moved, is a miss.
    assert!(cache.get_renewing("uncounted", || Some(5)).is_none());
    assert!(cache.get_renewing("counted", || Some(6)).is_none());
    assert!(cache.get_renewing("counted", || None).is_none());
    // Unchanged: served, and fresh again for a whole ttl.
    assert!(cache.get_renewing("counted", || Some(5)).is_some());
    assert!(cache.get_renewing("counted", never).is_some());
    assert!(cache.get("counted").is_some());
    std::thread::sleep(Duration::from_millis(50));
    assert!(cache.get("counted").is_none());
    // A validated cache never serves through this path.
    let validated = SessionCache::validated(3);
    validated.insert_validated("d", 5, &s, &u);
    assert!(validated.get_renewing("d", || Some(5)).is_none());
}

#[test]
fn validated_serves_only_at_the_stored_version() {
    let cache = SessionCache::validated(3);
    assert!(cache.is_validated());
    let (s, u) = pair("a");
    cache.insert_validated("d", 7, &s, &u);
    assert_eq!(
        cache
            .get_validated("d", 7)
            .map(|f| f.0.id.clone())
            .as_deref(),
        Some("a")
    );
    assert!(cache.get_validated("d", 8).is_none());
    // The ttl methods do nothing on a validated cache and vice versa.
    assert!(cache.get("d").is_none());
    cache.insert("e", &s, &u);
    assert!(cache.get_validated("e", 0).is_none());
    let ttl = SessionCache::new(Duration::from_secs(1));
    ttl.insert_validated("d", 7, &s, &u);
    assert!(ttl.is_empty());
    assert!(ttl.get_validated("d", 7).is_none());
}

#[test]
fn s51_no_entry_is_served_past_its_maximum_age() {
    let (s, u) = pair("a");
    let validated = SessionCache::validated(3).with_max_age(Duration::from_millis(40));
    validated.insert_validated("d", 7, &s, &u);
    let ttl = SessionCache::new(Duration::from_millis(30)).with_max_age(Duration::from_millis(40));
    ttl.insert_with_body("d", Some(5), &s, &u);
    assert!(validated.get_validated("d", 7).is_some());
    std::thread::sleep(Duration::from_millis(32));
    // The ttl entry is renewed while the counter stands still...
    assert!(ttl.get_renewing("d", || Some(5)).is_some());
    std::thread::sleep(Duration::from_millis(20));
    // ...but neither is served past the maximum age, counter or not.
    assert!(validated.get_validated("d", 7).is_none());
    assert!(ttl.get_renewing("d", || Some(5)).is_none());
    assert!(ttl.get("d").is_none());
}

#[test]
fn validated_is_bounded_and_drops_old_versions_first() {
    let cache = SessionCache::validated(3);
    for i in 0..3 {
        let (s, u) = pair(&i.to_string());
        cache.insert_validated(&i.to_string(), 1, &s, &u);
    }
    let (s, u) = pair("new");
    cache.insert_validated("new", 2, &s, &u);
    assert_eq!(cache.len(), 1);
    assert!(cache.get_validated("new", 2).is_some());
}

-- A provider's account signs in exactly one user: at most one row per
-- ("providerId", "accountId"), so two racing sign-ins or links cannot bind one
-- GitHub or OpenID account to two users. Duplicates an earlier version may have
-- left keep the oldest row (the first link).
DELETE FROM "account"
WHERE "id" NOT IN (
    SELECT "id" FROM (
      SELECT "id", ROW_NUMBER() OVER (
        PARTITION BY "providerId", "accountId" ORDER BY "createdAt", "id"
      ) AS "rank"
      FROM "account"
    ) AS "ranked"
    WHERE "rank" = 1
  );

ALTER TABLE "account" ADD UNIQUE INDEX "account_provider_account_idx" ("providerId", "accountId");

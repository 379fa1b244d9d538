-- Lifebridge station, schema 13: a station that runs on a bus as a hub
-- (`lifebridge-station hub`, crates/station/src/hub/). Its tablets enroll with it as with
-- a station; it relays their entries to the city station under their own ids and seqs,
-- and brings back what they need. A city station never fills these tables.

-- The hub's link to the city station: one row, written at the hub's enrollment there.
CREATE TABLE hub_upstream (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    url          TEXT NOT NULL,
    -- The station's pinned certificate (PEM); NULL for plain HTTP to a loopback address.
    cert_pem     TEXT,
    -- The hub's device id at the station (its own station id) and the name it enrolled as.
    device_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- The hub's bearer token at the station. Kept in clear because the hub must send
    -- it (as a tablet keeps its own); the data folder is readable by its user only.
    token        TEXT NOT NULL,
    -- The station's change sequence imported up to here.
    pull_cursor  BIGINT NOT NULL DEFAULT 0,
    -- 1 while an operator holds the upstream link off (the hub page, `make run`'s bus).
    paused       INTEGER NOT NULL DEFAULT 0,
    enrolled_at  TEXT NOT NULL
);

-- Each tablet enrolled with the hub, as the station knows it.
CREATE TABLE hub_relay (
    device_id      TEXT PRIMARY KEY,
    -- When the station took the tablet's registration through this hub (NULL: not yet).
    registered_at  TEXT,
    -- The station holds this tablet's entries up to this seq.
    relayed_seq    BIGINT NOT NULL DEFAULT 0,
    -- Why the last relay of this tablet failed (NULL after a success).
    last_error     TEXT
);

-- DIN ranges the station leased to the hub; the hub sub-leases them to its tablets
-- from `next_seq` on, so a tablet added on the bus with no internet can still collect.
CREATE TABLE hub_lease (
    lease_id   TEXT PRIMARY KEY,
    facility   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    first_seq  BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL,
    next_seq   BIGINT NOT NULL
);

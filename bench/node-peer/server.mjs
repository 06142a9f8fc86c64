// The Node BFF a team would write instead of this product, as the benchmark's peer:
// Express 5 with express-session, sessions in its MemoryStore (one process) or in Redis
// through connect-redis (two processes with node:cluster). `POST /signin` signs the test
// person in (an HttpOnly, SameSite=Strict cookie); `GET /api/me` answers their JSON.
// It has no CSRF rule, stores session ids as they are, and has no idle or absolute
// timeout: less work per request than the product does.
//
//   node server.mjs <port> <me.json> memory
//   node server.mjs <port> <me.json> redis <redis-url>
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import express from "express";
import session from "express-session";

const [port, mePath, store, redisUrl] = process.argv.slice(2);

if (store === "redis" && cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
} else {
  let sessionStore;
  if (store === "redis") {
    const { createClient } = await import("redis");
    const { RedisStore } = await import("connect-redis");
    const client = createClient({ url: redisUrl });
    await client.connect();
    sessionStore = new RedisStore({ client, prefix: "peer:" });
  }
  const person = JSON.parse(readFileSync(mePath, "utf8"));
  const app = express();
  app.use(session({
    name: "sid",
    secret: "benchmark-secret",
    resave: false,
    saveUninitialized: false,
    store: sessionStore,
    cookie: { httpOnly: true, sameSite: "strict" },
  }));
  app.get("/healthz", (req, res) => res.send("ok"));
  app.post("/signin", (req, res) => {
    req.session.user = person;
    res.status(204).end();
  });
  app.get("/api/me", (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: "unauthenticated" });
    res.json(req.session.user);
  });
  app.listen(Number(port), "127.0.0.1");
}

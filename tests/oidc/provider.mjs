// A real OpenID Provider for the end-to-end tests: the certified `oidc-provider`
// package with its development login and consent pages, back-channel logout,
// RP-initiated logout and token revocation switched on. `cargo xtask test` installs
// the package into target/tools/oidc.
//
// Configured from the environment: OIDC_PROVIDER_MODULES (the node_modules folder
// holding the package), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// POST_LOGOUT_REDIRECT_URI, BACKCHANNEL_LOGOUT_URI. Listens on a free loopback port
// and prints one line, `issuer http://127.0.0.1:PORT`, once it answers.
import http from 'node:http';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// ES modules ignore NODE_PATH: load the package from where it was installed.
const packageDir = join(process.env.OIDC_PROVIDER_MODULES ?? '', 'oidc-provider');
const entry = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).main;
const { default: Provider } = await import(pathToFileURL(join(packageDir, entry)).href);

const env = process.env;
for (const name of ['CLIENT_ID', 'CLIENT_SECRET', 'REDIRECT_URI', 'POST_LOGOUT_REDIRECT_URI', 'BACKCHANNEL_LOGOUT_URI']) {
  if (!env[name]) {
    console.error(`${name} is required`);
    process.exit(2);
  }
}

// The issuer names the port, so the socket is opened before the provider exists.
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

// Anyone may sign in on the development login page; these have profiles.
const people = {
  alice: { name: 'Alice Liddell', preferred_username: 'alice', email: 'alice@example.com', email_verified: true },
  bob: { name: 'Bob Builder', preferred_username: 'bob', email: 'bob@example.com', email_verified: false },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: env.CLIENT_ID,
    client_secret: env.CLIENT_SECRET,
    redirect_uris: [env.REDIRECT_URI],
    post_logout_redirect_uris: [env.POST_LOGOUT_REDIRECT_URI],
    backchannel_logout_uri: env.BACKCHANNEL_LOGOUT_URI,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    revocation: { enabled: true },
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...(people[id] ?? { preferred_username: id }) };
      },
    };
  },
  // Refresh tokens without `offline_access` and `prompt=consent`, as Okta, Keycloak and
  // Entra ID issue them by default, so sessions here exercise refresh.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  cookies: { keys: ['a test key, not a secret'] },
  // The provider's own fetch refuses loopback addresses (a guard against server-side
  // request forgery); the BFF under test listens on loopback, so back-channel logout
  // requests go out without that guard here.
  fetch(url, options) {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
});
server.on('request', provider.callback());
console.log(`issuer ${issuer}`);

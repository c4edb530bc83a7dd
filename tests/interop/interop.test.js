'use strict';
// ccroute interop: an independent gRPC implementation (@grpc/grpc-js, with
// the protos loaded at run time by @grpc/proto-loader) plays a gateway and
// two agent desktops against a running ccrouted, and checks every state it
// sees: contacts' states and end reasons, offers and withdrawals, acks'
// codes, and how streams end.
//
// CCROUTE_ADDRESS (host:port) names the server; run.sh starts one on the
// configuration in ccrouted.test.yaml and sets it.
//
//   CCROUTE_ADDRESS=127.0.0.1:7400 node --test interop.test.js

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const ADDRESS = process.env.CCROUTE_ADDRESS;
// Every single wait; the whole run has GLOBAL_TIMEOUT_MS.
const STEP_TIMEOUT_MS = 10000;
const GLOBAL_TIMEOUT_MS = 60000;
const RUN = `${process.pid}`;

// google.rpc.Code values, as acks and statuses carry them.
const Code = grpc.status;

// A hung server must not hang CI: fail the whole run.
setTimeout(() => {
  console.error(`interop: not done after ${GLOBAL_TIMEOUT_MS} ms: failing`);
  process.exit(1);
}, GLOBAL_TIMEOUT_MS).unref();

// The well-known types (google/protobuf/duration.proto, timestamp.proto)
// are not in proto/: proto-loader resolves them from its own bundled copies.
const definition = protoLoader.loadSync(
    [
      'ccroute/v1/contacts.proto',
      'ccroute/v1/agents.proto',
      'ccroute/v1/admin.proto',
      'ccroute/v1/supervisor.proto',
    ],
    {
      includeDirs: [path.resolve(__dirname, '../../proto')],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
const v1 = grpc.loadPackageDefinition(definition).ccroute.v1;
const credentials = grpc.credentials.createInsecure();

// Messages pushed by a stream, and how the stream ended, for tests to wait
// on. take() removes and returns the first message matching a predicate,
// waiting at most STEP_TIMEOUT_MS.
class Inbox {
  constructor(name) {
    this.name = name;
    this.items = [];
    this.seen = [];
    this.waiters = [];
    this.status = null;
  }

  push(item) {
    this.items.push(item);
    this.seen.push(item);
    this.wake();
  }

  end(status) {
    this.status = status;
    this.wake();
  }

  take(pred, what) {
    return this.waitFor(() => {
      const i = this.items.findIndex(pred);
      if (i < 0) return undefined;
      return this.items.splice(i, 1)[0];
    }, what);
  }

  // How the stream ended (a grpc-js status object).
  ended() {
    return this.waitFor(() => this.status || undefined, 'the end of the stream');
  }

  waitFor(check, what) {
    const found = check();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {check, resolve};
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(
            `${this.name}: no ${what} within ${STEP_TIMEOUT_MS} ms; ` +
            `pending: ${JSON.stringify(this.items)}; ` +
            `status: ${JSON.stringify(this.status)}`));
      }, STEP_TIMEOUT_MS);
      this.waiters.push(waiter);
    });
  }

  wake() {
    for (const waiter of [...this.waiters]) {
      const found = waiter.check();
      if (found === undefined) continue;
      clearTimeout(waiter.timer);
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(found);
    }
  }
}

function deadline() {
  return {deadline: Date.now() + STEP_TIMEOUT_MS};
}

// A unary call as a promise.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, deadline(), (err, response) => {
      if (err) reject(err);
      else resolve(response);
    });
  });
}

async function expectCode(promise, code, mentions) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `${err.code}: ${err.details}`);
    if (mentions) assert.match(err.details, new RegExp(mentions));
    return true;
  });
}

// One agent desktop: an Agents.Connect stream with heartbeats.
class Desktop {
  constructor(agentId) {
    this.agentId = agentId;
    this.client = new v1.Agents(ADDRESS, credentials);
    this.inbox = new Inbox(`desktop ${agentId}`);
    this.next = 1;
    this.stream = this.client.Connect();
    this.stream.on('data', (event) => this.inbox.push(event));
    // A non-OK end arrives both as 'error' and as 'status'; the status is
    // what the tests check.
    this.stream.on('error', () => {});
    this.stream.on('status', (status) => this.inbox.end(status));
    this.heartbeat = setInterval(() => this.write('heartbeat', {}), 10000);
    this.heartbeat.unref();
  }

  write(action, body) {
    const id = `${this.agentId}-${this.next++}`;
    this.stream.write({request_id: id, [action]: body});
    return id;
  }

  // Sends a request and returns its Ack.
  async send(action, body = {}) {
    const id = this.write(action, body);
    const event = await this.inbox.take(
        (e) => e.event === 'ack' && e.ack.request_id === id, `ack of ${id}`);
    return event.ack;
  }

  // Sends a request and checks that the Ack has `code` (OK by default).
  async expect(action, body = {}, code = Code.OK) {
    const ack = await this.send(action, body);
    assert.equal(ack.code, code,
                 `${this.agentId} ${action}: code ${ack.code} ${ack.message}`);
    return ack;
  }

  login(ready) {
    return this.expect('login', {agent_id: this.agentId, ready});
  }

  // The next pushed event of `kind` ("offer", "assigned", ...) about
  // `contactId`.
  event(kind, contactId) {
    return this.inbox.take((e) => {
      if (e.event !== kind) return false;
      const body = e[kind];
      return (body.contact ? body.contact.id : body.contact_id) === contactId;
    }, `${kind} of ${contactId}`);
  }

  // The next status event saying `state`.
  status(state) {
    return this.inbox.take(
        (e) => e.event === 'status' && e.status.state === state,
        `status ${state}`);
  }

  // Forgets what arrived so far (events of earlier tests).
  drain() {
    this.inbox.items.length = 0;
  }

  close() {
    clearInterval(this.heartbeat);
    this.stream.end();
    this.client.close();
  }
}

// One WatchContact stream. states() is the contact's (state, agent) as
// the updates showed it, without repeats.
class Watch {
  constructor(contacts, contactId) {
    this.inbox = new Inbox(`watch ${contactId}`);
    this.stream = contacts.WatchContact({contact_id: contactId});
    this.stream.on('data', (update) => this.inbox.push(update));
    this.stream.on('error', () => {});
    this.stream.on('status', (status) => this.inbox.end(status));
  }

  // Waits for the snapshot, the stream's first message: from then on the
  // watch sees every change.
  async opened() {
    const first = await this.inbox.waitFor(
        () => this.inbox.seen[0], 'snapshot');
    assert.equal(first.change, 'snapshot');
    return first;
  }

  state(state) {
    return this.inbox.take((u) => u.contact.state === state, state);
  }

  // Waits for the stream to finish OK, then returns the states seen.
  async finish() {
    const status = await this.inbox.ended();
    assert.equal(status.code, Code.OK, status.details);
    const states = [];
    for (const u of this.inbox.seen) {
      const s = `${u.contact.state.replace('CONTACT_STATE_', '')}` +
          (u.contact.agent_id ? `(${u.contact.agent_id})` : '');
      if (states[states.length - 1] !== s) states.push(s);
    }
    return {states, first: this.inbox.seen[0], last: this.inbox.seen.at(-1)};
  }
}

let contacts;
let admin;
let supervisor;
let desk1;
let desk2;

function contact(id, queue = 'interop') {
  return {contact_id: `${RUN}-${id}`, queue, channel: 'CHANNEL_VOICE'};
}

async function create(request) {
  const c = await call(contacts, 'CreateContact', request);
  assert.equal(c.id, request.contact_id);
  assert.equal(c.queue, request.queue);
  assert.equal(c.channel, 'CHANNEL_VOICE');
  assert.equal(c.created, true);
  assert.ok(c.created_at && c.arrived_at, 'timestamps set');
  return c;
}

async function getContact(id) {
  return call(contacts, 'GetContact', {contact_id: id});
}

// The two desktops as a test wants them: READY or not.
async function arrange(ready1, ready2) {
  for (const [desk, ready] of [[desk1, ready1], [desk2, ready2]]) {
    if (ready) {
      await desk.expect('ready');
    } else {
      await desk.expect('not_ready', {reason: 'interop'});
    }
    desk.drain();
  }
}

// Which desktop got the offer of `id`, and the other one.
async function offeredTo(id) {
  const winner = await Promise.any([desk1, desk2].map(
      (d) => d.inbox
          .waitFor(
              () => d.inbox.items.some(
                        (e) => e.event === 'offer' && e.offer.contact.id === id) ||
                  undefined,
              `offer of ${id}`)
          .then(() => d)));
  return [winner, winner === desk1 ? desk2 : desk1];
}

before(async () => {
  assert.ok(ADDRESS, 'set CCROUTE_ADDRESS=host:port');
  contacts = new v1.Contacts(ADDRESS, credentials);
  admin = new v1.Admin(ADDRESS, credentials);
  supervisor = new v1.Supervisor(ADDRESS, credentials);
  desk1 = new Desktop('desk1');
  desk2 = new Desktop('desk2');
  await desk1.login(true);
  const ready = await desk1.status('AGENT_STATE_READY');
  assert.equal(ready.status.agent_id, 'desk1');
  await desk2.login(false);
  await desk2.status('AGENT_STATE_NOT_READY');
});

after(() => {
  for (const desk of [desk1, desk2]) desk?.close();
  for (const client of [contacts, admin, supervisor]) client?.close();
});

test('the server describes its queues and agents', async () => {
  const {queues} = await call(admin, 'ListQueues', {});
  const timeout = queues.find((q) => q.name === 'interop_timeout');
  assert.ok(timeout, 'queue interop_timeout is configured');
  assert.deepEqual(timeout.offer_timeout, {seconds: '1', nanos: 0});
  assert.deepEqual(timeout.channels, ['CHANNEL_VOICE']);
  const {agents} = await call(supervisor, 'ListAgents', {});
  const byId = Object.fromEntries(agents.map((a) => [a.agent_id, a]));
  assert.equal(byId.desk1.state, 'AGENT_STATE_READY');
  assert.equal(byId.desk1.connected, true);
  assert.equal(byId.desk2.state, 'AGENT_STATE_NOT_READY');
});

test('full lifecycle: create, offer, accept, complete, wrap-up', async () => {
  await arrange(true, false);
  const request = contact('life');
  const id = request.contact_id;
  const created = await create(request);
  assert.equal(created.state, 'CONTACT_STATE_OFFERED');
  assert.equal(created.agent_id, 'desk1');
  // Idempotent: the same id again is the same contact, not a second one.
  const again = await call(contacts, 'CreateContact', request);
  assert.equal(again.created, false);
  assert.equal(again.state, 'CONTACT_STATE_OFFERED');
  const watch = new Watch(contacts, id);
  await watch.opened();

  const {offer} = await desk1.event('offer', id);
  assert.equal(offer.contact.state, 'CONTACT_STATE_OFFERED');
  assert.equal(offer.contact.queue, 'interop');
  const expires = Number(offer.expires_at.seconds) * 1000;
  assert.ok(expires > Date.now() && expires <= Date.now() + 31000,
            `expires_at ${offer.expires_at.seconds} is about 30 s away`);

  await desk1.expect('accept', {contact_id: id});
  const {assigned} = await desk1.event('assigned', id);
  assert.equal(assigned.contact.state, 'CONTACT_STATE_ASSIGNED');
  assert.equal(assigned.contact.agent_id, 'desk1');
  const answered = await getContact(id);
  assert.equal(answered.state, 'CONTACT_STATE_ASSIGNED');
  // The caller can no longer be cancelled: an agent has it.
  await expectCode(call(contacts, 'CancelContact', {contact_id: id}),
                   Code.FAILED_PRECONDITION, 'desk1');
  // Another agent cannot complete it.
  await desk2.expect('complete', {contact_id: id, wrap_up_code: 'x'},
                     Code.FAILED_PRECONDITION);

  await desk1.expect('complete', {contact_id: id, wrap_up_code: 'resolved'});
  const {wrap_up_started: wrap} = await desk1.event('wrap_up_started', id);
  const ends = Number(wrap.ends_at.seconds) * 1000;
  assert.ok(ends > Date.now() + 60000, 'the configured 120 s wrap-up');
  assert.equal((await getContact(id)).state, 'CONTACT_STATE_WRAP_UP');
  await desk1.expect('end_wrap_up', {contact_id: id});
  await desk1.event('wrap_up_ended', id);

  const {states, first, last} = await watch.finish();
  assert.equal(first.change, 'snapshot');
  assert.deepEqual(states,
                   ['OFFERED(desk1)', 'ASSIGNED(desk1)', 'WRAP_UP(desk1)',
                    'ENDED(desk1)']);
  assert.equal(last.contact.end_reason, 'END_REASON_COMPLETED');
  const ended = await getContact(id);
  assert.equal(ended.state, 'CONTACT_STATE_ENDED');
  assert.equal(ended.end_reason, 'END_REASON_COMPLETED');
  // Completing twice is refused: the contact is gone from the agent.
  await desk1.expect('complete', {contact_id: id, wrap_up_code: 'x'},
                     Code.NOT_FOUND);
});

test('a rejected offer goes to the other agent', async () => {
  await arrange(true, true);
  const request = contact('reject');
  const id = request.contact_id;
  const created = await create(request);
  assert.equal(created.state, 'CONTACT_STATE_OFFERED');
  const watch = new Watch(contacts, id);
  await watch.opened();
  const [first, second] = await offeredTo(id);
  assert.equal(created.agent_id, first.agentId);
  await first.event('offer', id);
  await first.expect('reject', {contact_id: id});

  const {offer} = await second.event('offer', id);
  assert.equal(offer.contact.agent_id, second.agentId);
  assert.equal(offer.contact.position, 1, 'it kept its place');
  const reoffered = await getContact(id);
  assert.equal(reoffered.state, 'CONTACT_STATE_OFFERED');
  assert.equal(reoffered.agent_id, second.agentId);
  // The first agent can no longer take it.
  await first.expect('accept', {contact_id: id}, Code.FAILED_PRECONDITION);
  await second.expect('accept', {contact_id: id});
  await second.expect('complete', {contact_id: id, wrap_up_code: 'done'});
  await second.expect('end_wrap_up', {contact_id: id});

  const {states, last} = await watch.finish();
  assert.deepEqual(states, [
    `OFFERED(${first.agentId})`, `OFFERED(${second.agentId})`,
    `ASSIGNED(${second.agentId})`, `WRAP_UP(${second.agentId})`,
    `ENDED(${second.agentId})`,
  ]);
  assert.equal(last.contact.end_reason, 'END_REASON_COMPLETED');
});

test('an offer nobody answers times out and goes to the other agent',
     async () => {
       await arrange(true, true);
       const request = contact('timeout', 'interop_timeout');
       const id = request.contact_id;
       const created = await create(request);
       assert.equal(created.state, 'CONTACT_STATE_OFFERED');
       const [first, second] = await offeredTo(id);
       const {offer} = await first.event('offer', id);
       const expires = Number(offer.expires_at.seconds) * 1000 +
           offer.expires_at.nanos / 1e6;
       assert.ok(expires <= Date.now() + 1500, 'the queue\'s 1 s timeout');

       // Nobody answers.
       const {offer_withdrawn: withdrawn} =
           await first.event('offer_withdrawn', id);
       assert.equal(withdrawn.reason, 'timed_out');
       const {offer: next} = await second.event('offer', id);
       assert.equal(next.contact.agent_id, second.agentId);
       await first.expect('accept', {contact_id: id},
                          Code.FAILED_PRECONDITION);
       await second.expect('accept', {contact_id: id});
       const answered = await getContact(id);
       assert.equal(answered.state, 'CONTACT_STATE_ASSIGNED');
       assert.equal(answered.agent_id, second.agentId);
       await second.expect('complete', {contact_id: id, wrap_up_code: 'ok'});
       await second.expect('end_wrap_up', {contact_id: id});
       const ended = await getContact(id);
       assert.equal(ended.state, 'CONTACT_STATE_ENDED');
       assert.equal(ended.end_reason, 'END_REASON_COMPLETED');
     });

test('the caller hangs up while queued', async () => {
  await arrange(false, false);
  const request = contact('hangup-queued');
  const id = request.contact_id;
  const created = await create(request);
  assert.equal(created.state, 'CONTACT_STATE_QUEUED');
  assert.equal(created.position, 1);
  assert.equal(created.estimated_wait, null, 'unknown: nobody is ready');
  const watch = new Watch(contacts, id);
  const snapshot = await watch.opened();
  assert.equal(snapshot.contact.state, 'CONTACT_STATE_QUEUED');

  const cancelled = await call(contacts, 'CancelContact', {contact_id: id});
  assert.equal(cancelled.state, 'CONTACT_STATE_ENDED');
  assert.equal(cancelled.end_reason, 'END_REASON_ABANDONED');
  const {states, last} = await watch.finish();
  assert.deepEqual(states, ['QUEUED', 'ENDED']);
  assert.equal(last.contact.end_reason, 'END_REASON_ABANDONED');
  // A retried cancel is done; a cancel for another reason is refused.
  const again = await call(contacts, 'CancelContact', {contact_id: id});
  assert.equal(again.end_reason, 'END_REASON_ABANDONED');
  await expectCode(call(contacts, 'CancelContact',
                        {contact_id: id, reason: 'END_REASON_CANCELLED'}),
                   Code.FAILED_PRECONDITION, 'ended');
  // Nobody was offered it when they became ready.
  await arrange(true, false);
  assert.equal((await getContact(id)).state, 'CONTACT_STATE_ENDED');
});

test('the gateway cancels a contact while it is offered', async () => {
  await arrange(true, false);
  const request = contact('cancel-offered');
  const id = request.contact_id;
  const created = await create(request);
  assert.equal(created.state, 'CONTACT_STATE_OFFERED');
  await desk1.event('offer', id);

  const cancelled = await call(contacts, 'CancelContact',
                               {contact_id: id, reason: 'END_REASON_CANCELLED'});
  assert.equal(cancelled.state, 'CONTACT_STATE_ENDED');
  assert.equal(cancelled.end_reason, 'END_REASON_CANCELLED');
  const {offer_withdrawn: withdrawn} = await desk1.event('offer_withdrawn', id);
  assert.equal(withdrawn.reason, 'cancelled');
  const late = await desk1.send('accept', {contact_id: id});
  assert.equal(late.code, Code.NOT_FOUND, 'accepting a cancelled contact');
  assert.match(late.message, new RegExp(id));
  // The agent is free again: the next contact is offered at once.
  const next = await create(contact('after-cancel'));
  assert.equal(next.agent_id, 'desk1');
  await desk1.event('offer', next.id);
  await desk1.expect('reject', {contact_id: next.id});
  await call(contacts, 'CancelContact', {contact_id: next.id});
});

test('the gateway sees clear errors', async () => {
  await expectCode(call(contacts, 'CreateContact', contact('x', 'nowhere')),
                   Code.NOT_FOUND, 'nowhere');
  await expectCode(
      call(contacts, 'CreateContact',
           {contact_id: '', queue: 'interop', channel: 'CHANNEL_VOICE'}),
      Code.INVALID_ARGUMENT, 'id');
  await expectCode(call(contacts, 'GetContact', {contact_id: `${RUN}-ghost`}),
                   Code.NOT_FOUND);
  await expectCode(
      call(contacts, 'CancelContact',
           {contact_id: `${RUN}-ghost`, reason: 'END_REASON_COMPLETED'}),
      Code.INVALID_ARGUMENT, 'reason');
  const watch = new Watch(contacts, `${RUN}-ghost`);
  const status = await watch.inbox.ended();
  assert.equal(status.code, Code.NOT_FOUND);
});

test('desktop protocol: login first, known agents, one session each',
     async () => {
       const early = new Desktop('desk2');
       try {
         await early.expect('ready', {}, Code.FAILED_PRECONDITION);
         await early.expect('login', {agent_id: ''}, Code.INVALID_ARGUMENT);
       } finally {
         early.close();
       }
       const stranger = new Desktop('nobody');
       try {
         await stranger.expect('login', {agent_id: 'nobody', ready: true},
                               Code.NOT_FOUND);
       } finally {
         stranger.close();
       }
       // A second session for desk1 replaces the first, which ends ABORTED.
       const replacement = new Desktop('desk1');
       try {
         await replacement.login(true);
         const status = await desk1.inbox.ended();
         assert.equal(status.code, Code.ABORTED, status.details);
         await replacement.expect('logout');
       } finally {
         replacement.close();
       }
     });

#!/usr/bin/env node
// A keiretsu API client for Node.js, from the .proto files alone
// (docs/API.md "Node.js client"). Prints one JSON line per result.
//
//   node keiretsu_client.js --node HOST:PORT --token TOKEN status
//   node keiretsu_client.js ... owe CREDITOR AMOUNT UNIT [--request-id ID]
//   node keiretsu_client.js ... entries AUTHOR [--limit N]   (every page)
//   node keiretsu_client.js ... watch [--cursor C] [--count N]
//
// Exit codes: 0 ok, 1 usage, 2 a gRPC error (its code name on stderr).
'use strict';

const path = require('path');
const crypto = require('crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// The options that matter: without keepCase, proto-loader renames fields to
// camelCase (pageToken) and silently drops the snake_case ones a program
// sets (page_token), so a paging loop never ends; longs as strings keep
// uint64 exact; defaults fill absent fields (proto3 omits zero values);
// oneofs say which member is set; includeDirs resolves the imports.
const PROTO_DIR = process.env.KEIRETSU_PROTO_DIR || path.join(__dirname, '..', '..', 'proto');
const definition = protoLoader.loadSync('keiretsu/v1/api.proto', {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { Ledger } = grpc.loadPackageDefinition(definition).keiretsu.v1;

function parseArgs(argv) {
  const flags = {};
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) flags[argv[i].slice(2)] = argv[++i];
    else rest.push(argv[i]);
  }
  return { flags, rest };
}

function fail(err) {
  process.stderr.write(`keiretsu_client: ${err.details || err.message} (${grpc.status[err.code]})\n`);
  process.exit(2);
}

function call(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 10000 }, (err, resp) =>
      err ? reject(err) : resolve(resp));
  });
}

async function main() {
  const { flags, rest } = parseArgs(process.argv.slice(2));
  const [command, ...args] = rest;
  if (!flags.node || !command) {
    process.stderr.write('usage: keiretsu_client.js --node HOST:PORT --token TOKEN COMMAND ...\n');
    process.exit(1);
  }
  const client = new Ledger(flags.node, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${flags.token || ''}`);
  const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

  if (command === 'status') {
    print(await call(client, 'GetStatus', {}, md));
  } else if (command === 'owe') {
    const [creditor, amount, unit] = args;
    // An idempotency key: a retry with the same id writes at most once.
    const request_id = flags['request-id'] || crypto.randomUUID();
    print(await call(client, 'RecordObligation', { creditor, amount, unit, request_id }, md));
  } else if (command === 'entries') {
    const limit = Number(flags.limit || 100);
    let page_token = '';
    let pages = 0;
    do {
      const resp = await call(client, 'ListEntries', { author: args[0], limit, page_token }, md);
      for (const e of resp.entries) print({ seq: e.seq, kind: e.kind, id: e.id, amount: e.amount });
      page_token = resp.next_page_token;
      pages++;
    } while (page_token !== '');
    print({ pages });
  } else if (command === 'watch') {
    const count = Number(flags.count || 0);
    const stream = client.Watch({ cursor: flags.cursor || '' }, md);
    let seen = 0;
    stream.on('data', (ev) => {
      print({ cursor: ev.cursor, kind: ev.entry.kind, changes: ev.changes.map((c) => c.delta) });
      if (count > 0 && ++seen >= count) stream.cancel();
    });
    await new Promise((resolve, reject) => {
      stream.on('error', (err) => (err.code === grpc.status.CANCELLED ? resolve() : reject(err)));
      stream.on('end', resolve);
    });
  } else {
    process.stderr.write(`keiretsu_client: unknown command ${command}\n`);
    process.exit(1);
  }
  client.close();
}

main().catch(fail);

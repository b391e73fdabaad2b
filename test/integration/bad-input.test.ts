/**
 * Bad input end to end, property-based: the built binary against Azurite, a group seeded by the official
 * checkpoint store. Whatever a plan file or a flag value holds, ehcp either refuses it as a usage error
 * (exit 2, one clear line on stderr or an error document under --json, no stack trace, nothing written,
 * no backup file, Event Hubs never dialled) or, when the input is valid, proceeds. test/unit/properties.test.ts
 * has the parser-level properties; these run the real process, so a crash, a write or a wrong exit code
 * anywhere between parsing and storage shows.
 *
 * Every property has a fixed seed (EHCP_FC_SEED overrides it) and stops at the first failure without
 * shrinking (each run is a process, ~0.3 s): the report gives the counterexample and the seed and path
 * that replay it.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'
import fc from 'fast-check'

import type {ChangeResult, PartitionResult} from '../../src/change/execute.js'
import {type CliResult, describeRun, runEhcp} from '../support/cli.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {snapshot} from '../support/snapshot.js'

const NS = 'badinput.servicebus.windows.net'
const HUB = 'orders'
const GROUP = '$default'
const OTHER = 'other'
const PARTITIONS = ['0', '1', '2', '3']
const SEED = Number(process.env.EHCP_FC_SEED ?? 20261126)
const runs = (numRuns: number): fc.Parameters<unknown> => ({numRuns, seed: SEED, endOnFailure: true})

type Json = null | boolean | number | string | Json[] | {[key: string]: Json}
type JsonObject = {[key: string]: Json}
type Format = 'backup' | 'show-json' | 'show-csv'

/**
 * A port nothing listens on: a connection to it is refused at once. A privileged port, never an ephemeral one:
 * a port freed here could be taken by a server another test starts later (an Event Hubs stand-in, which then
 * refuses the bogus key: exit 4 instead of 7).
 */
const CLOSED_PORT = 1

/**
 * A refusal as the contract wants it: the exit code; under --json one error document on stdout and nothing
 * on stderr; otherwise nothing on stdout and "Error: <one line>" (plus at most a one-line hint) on stderr.
 * Never a stack trace, a JavaScript error name, "unexpected failure" or oclif's own wording.
 */
function expectRefusal(r: CliResult, json: boolean, mention: string | RegExp, exitCode = 2, echoed = ''): void {
  const context = describeRun(r)
  expect(r.code, context).to.equal(exitCode)
  let message: string
  if (json) {
    expect(r.stderr, context).to.equal('')
    const doc = r.json<{error: {code: string; message: string; exitCode: number; hint: string | null}}>()
    expect(Object.keys(doc), context).to.deep.equal(['error'])
    expect(doc.error.exitCode, context).to.equal(exitCode)
    expect(doc.error.code, context).to.equal(exitCode === 2 ? 'usage' : 'not-found')
    message = doc.error.message
    expect(doc.error.hint ?? '', context).not.to.include('\n')
  } else {
    expect(r.stdout, context).to.equal('')
    const lines = r.stderr.replace(/\n$/, '').split('\n')
    expect(lines.length, context).to.be.within(1, 2)
    expect(lines[0], context).to.match(/^Error: \S/)
    message = lines[0]!.slice('Error: '.length)
  }
  expect(message, context).not.to.include('\n')
  // A plan file's content is quoted in part, however large; a flag's value may be echoed whole.
  expect(message.length, context).to.be.below(400 + echoed.length)
  if (typeof mention === 'string') expect(message, context).to.include(mention)
  else expect(message, context).to.match(mention)
  for (const internal of [
    /^\s+at /m,
    /\b(Type|Range|Syntax|Reference|Ehcp|CLI|Abort)Error\b/,
    /unexpected failure/i,
    /node:internal/,
    /\[object /,
    /See more help/,
    /^Parsing --/m,
  ]) {
    expect(r.stdout + r.stderr, context).not.to.match(internal)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Inputs: clearly invalid by construction, or clearly valid. Strings for argv never hold NUL (a process
// argument cannot).

const noNul = (s: string) => !s.includes('\0')
const anyString = fc
  .oneof(fc.string(), fc.string({unit: 'binary-ascii'}), fc.string({unit: 'grapheme'}), fc.string({unit: 'binary'}))
  .filter(noNul)
const alnum = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/)

/** What ehcp accepts as a sequence number, decided with BigInt: an integer from -1 to 2^53-1. */
const sequenceIsValid = (s: string) => /^-?\d+$/.test(s) && BigInt(s) >= -1n && BigInt(s) <= BigInt(Number.MAX_SAFE_INTEGER)
/** An offset is written as a metadata value: printable ASCII without spaces, at most 1024 characters. */
const offsetIsValid = (s: string) => /^[\x21-\x7e]{1,1024}$/.test(s)
const partitionIsValid = (s: string) => /^[A-Za-z0-9_-]{1,64}$/.test(s)

const badSequenceText = fc.oneof(
  fc.bigInt({min: -(2n ** 80n), max: -2n}).map(String),
  fc.bigInt({min: 2n ** 53n, max: 2n ** 80n}).map(String),
  fc.constantFrom(
    '1.5',
    '1e3',
    '0x10',
    ' 5',
    '5 ',
    '+5',
    '-',
    '--1',
    '١٢',
    '５',
    'NaN',
    'Infinity',
    '1_000',
    '9'.repeat(400),
    '-9'.repeat(30),
  ),
  anyString.filter((s) => s !== '' && !/^-?\d+$/.test(s)),
)
/** As JSON number literals: integers out of range, fractions, overflow. */
const badSequenceLiteral = fc.oneof(
  fc.bigInt({min: -(2n ** 80n), max: -2n}).map(String),
  fc.bigInt({min: 2n ** 53n, max: 2n ** 80n}).map(String),
  fc
    .double({noNaN: true, noDefaultInfinity: true})
    .filter((d) => !Number.isInteger(d))
    .map((d) => JSON.stringify(d)),
  fc.constantFrom('1e400', '-1e400', '1.5', '-1.5', '1e21', '9'.repeat(400)),
)
const validSequenceText = fc.oneof(
  fc.bigInt({min: -1n, max: BigInt(Number.MAX_SAFE_INTEGER)}).map(String),
  fc.constantFrom('-1', '0', '007', '9007199254740991'),
)

const badOffsetText = fc.oneof(
  fc.constantFrom(' ', ' 5', '5 ', '1 2', '\t', 'ü', '€', 'a\u0001b', 'a\nb', '\u001b[31m', '9'.repeat(1025)),
  anyString.filter((s) => s !== '' && !offsetIsValid(s)),
)
const validOffsetText = fc.oneof(
  fc.string({unit: fc.integer({min: 0x21, max: 0x7e}).map((n) => String.fromCharCode(n)), minLength: 1, maxLength: 40}),
  fc.constantFrom('-1', '0', '21502976', '1:2:3'),
)

const badPartitionText = fc.oneof(
  fc.constantFrom('', '../../x', '..', '0/1', ' 0', '0 ', 'a b', 'x'.repeat(65), '٣', '0\n1', '$default', '*', '%2e%2e', 'x'.repeat(5000)),
  anyString.filter((s) => !partitionIsValid(s)),
)
/**
 * For `reset --partition`, which splits on commas, trims and unquotes each element: a character no partition
 * id has, between two letters, leaves one element invalid whatever the splitting does.
 */
const outsider = anyString.filter((s) => s.length > 0 && [...s].every((ch) => !/[A-Za-z0-9_\-,"'\\\s]/.test(ch)))
const badPartitionList = fc.oneof(
  fc.tuple(alnum, outsider, alnum, fc.boolean()).map(([a, bad, b, lead]) => `${lead ? '0,' : ''}${a}${bad}${b}`),
  fc.constantFrom('', ',', '0,', ',1', '0,,1', 'x'.repeat(65), '0,../../x'),
)

const concurrencyIsValid = (s: string) => /^-?\d+$/.test(s) && BigInt(s) >= 1n && BigInt(s) <= 256n
const badConcurrencyText = fc.oneof(
  fc.integer({min: -1_000_000, max: 0}).map(String),
  fc.bigInt({min: 257n, max: 2n ** 70n}).map(String),
  anyString.filter((s) => !/^-?\d+$/.test(s)),
)

// ---------------------------------------------------------------------------------------------------------
// Plan files: the three formats ehcp reads, taken from the real CLI, then mangled.

const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
const toCsv = (rows: string[][]) => `${rows.map((r) => r.map(csvField).join(',')).join('\n')}\n`
const clone = <T>(v: T): T => structuredClone(v)

interface Templates {
  'show-json': JsonObject
  backup: JsonObject
  'show-csv': string[][]
}

interface Mangled {
  format: Format
  what: string
  text: string | Uint8Array
  /** 2 unless the contract says otherwise (3: a group that does not exist). */
  exitCode?: 2 | 3
  /** What the message must name; default the file's name. */
  mention?: string | RegExp
  /** Extra flags (scope flags that disagree with a backup). */
  args?: string[]
}

/** JSON with some values replaced by raw number literals (a placeholder string per literal). */
function jsonWithLiterals(doc: Json, literals: string[]): string {
  let text = JSON.stringify(doc, null, 2)
  literals.forEach((literal, i) => (text = text.replace(`"@@literal${i}@@"`, literal)))
  return `${text}\n`
}

const entries = (doc: JsonObject) => doc.partitions as JsonObject[]
/** A constant JSON value (fc.constant would type arrays as readonly tuples). */
const j = (value: Json): fc.Arbitrary<Json> => fc.constant(value)

const notString = fc.oneof(fc.integer(), fc.boolean(), j(null), j([]), j({}), fc.double({noNaN: true, noDefaultInfinity: true}))
const notObject = fc.oneof(fc.integer(), fc.boolean(), anyString, j([]), j([1]))
const notList = fc.oneof(fc.integer(), fc.boolean(), anyString, j({}), j(null))
const notName = fc.oneof(fc.integer(), fc.boolean(), j(null), fc.constant(''), j([]), j({}))
const notVersion = fc.oneof(
  fc.integer().filter((n) => n !== 1),
  anyString,
  j(null),
  fc.boolean(),
  fc.constant('1'),
  fc.constant(1.5),
)
const missingGroupName = alnum.map((s) => `no-such-${s.toLowerCase()}`)

function mangledShowJson(t: Templates): Array<fc.Arbitrary<Mangled>> {
  const base = t['show-json']
  const n = entries(base).length
  const at = fc.nat({max: n - 1})
  const edit = (what: string, change: (doc: JsonObject) => string[] | void, extra: Partial<Mangled> = {}): Mangled => {
    const doc = clone(base)
    const literals = change(doc) ?? []
    return {format: 'show-json', what, text: jsonWithLiterals(doc, literals), ...extra}
  }
  const checkpointOf = (doc: JsonObject, i: number) => entries(doc)[i]!.checkpoint as JsonObject
  return [
    fc
      .tuple(at, notObject)
      .map(([i, v]) => edit(`partitions[${i}].checkpoint = ${JSON.stringify(v)}`, (d) => void (entries(d)[i]!.checkpoint = v))),
    fc
      .tuple(at, fc.oneof(fc.boolean(), j({}), j([5]), badSequenceText))
      .map(([i, v]) => edit(`sequenceNumber = ${JSON.stringify(v)}`, (d) => void (checkpointOf(d, i).sequenceNumber = v))),
    fc.tuple(at, badSequenceLiteral).map(([i, v]) =>
      edit(`sequenceNumber = ${v.slice(0, 40)}`, (d) => {
        checkpointOf(d, i).sequenceNumber = '@@literal0@@'
        return [v]
      }),
    ),
    fc
      .tuple(at, fc.oneof(fc.integer(), fc.double(), fc.boolean(), j({}), j([]), fc.constant(''), badOffsetText))
      .map(([i, v]) => edit(`offset = ${JSON.stringify(v)}`, (d) => void (checkpointOf(d, i).offset = v))),
    fc
      .tuple(at, fc.oneof(notString, badPartitionText))
      .map(([i, v]) => edit(`partitionId = ${JSON.stringify(v)}`, (d) => void (entries(d)[i]!.partitionId = v))),
    at.map((i) => edit(`partitions[${i}] without partitionId`, (d) => void delete entries(d)[i]!.partitionId)),
    fc
      .tuple(at, fc.oneof(fc.integer(), anyString, fc.boolean(), j(null), j([])))
      .map(([i, v]) => edit(`partitions[${i}] = ${JSON.stringify(v)}`, (d) => void (entries(d)[i] = v as JsonObject))),
    notList.map((v) => edit(`partitions = ${JSON.stringify(v)}`, (d) => void (d.partitions = v))),
    fc
      .tuple(fc.constantFrom('namespace', 'eventHub', 'consumerGroup'), notName)
      .map(([key, v]) => edit(`${key} = ${JSON.stringify(v)}`, (d) => void (d[key] = v))),
    notVersion.map((v) => edit(`schemaVersion = ${JSON.stringify(v)}`, (d) => void (d.schemaVersion = v))),
    fc
      .oneof(anyString, fc.integer(), j(null), fc.constant('ehcp-backup'))
      .map((v) => edit(`kind = ${JSON.stringify(v)}`, (d) => void (d.kind = v))),
    fc
      .tuple(at, at)
      .map(([i, j]) =>
        edit(`partition of [${i}] again`, (d) => void entries(d).push({...clone(entries(d)[i]!), checkpoint: entries(d)[j]!.checkpoint})),
      ),
    // A group that does not exist: "not found" (exit 3) in the contract, and nothing written.
    fc.tuple(fc.constantFrom('namespace', 'eventHub', 'consumerGroup'), missingGroupName).map(([key, v]) =>
      edit(`${key} = ${v}`, (d) => void (d[key] = key === 'namespace' ? `${v}.servicebus.windows.net` : v), {
        exitCode: 3,
        mention: /^No /,
      }),
    ),
  ]
}

function mangledBackup(t: Templates): Array<fc.Arbitrary<Mangled>> {
  const base = t.backup
  const n = entries(base).length
  const at = fc.nat({max: n - 1})
  const edit = (what: string, change: (doc: JsonObject) => void, extra: Partial<Mangled> = {}): Mangled => {
    const doc = clone(base)
    change(doc)
    return {format: 'backup', what, text: jsonWithLiterals(doc, []), ...extra}
  }
  const metadataOf = (doc: JsonObject, i: number) => entries(doc)[i]!.metadata as JsonObject
  const badMetadataName = anyString.filter((s) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && s !== '__proto__')
  /** Neither a header can carry it (control characters, beyond Latin-1) nor Blob Storage keep it (over 8 KiB). */
  const badMetadataValue = fc.oneof(
    fc
      .tuple(
        anyString,
        fc.integer({min: 0, max: 0x1f}).filter((c) => c !== 9),
        anyString,
      )
      .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
    fc.tuple(anyString, fc.constantFrom('€', '✓', '😀', '\u0100'), anyString).map(([a, c, b]) => `${a}${c}${b}`),
    fc.constant('x'.repeat(8193)),
  )
  const otherBlobName = fc.oneof(
    anyString.filter((s) => s.split('/').length !== 5),
    fc.constantFrom(
      '..',
      '../../x',
      `${NS}/${HUB}/${GROUP}/../0`,
      `${NS}/${HUB}/${GROUP}/./0`,
      `${NS}/${HUB}/${GROUP}/x/0`,
      `${NS}/${HUB}/${GROUP}/checkpoint/9`,
    ),
  )
  return [
    notVersion.map((v) => edit(`schemaVersion = ${JSON.stringify(v)}`, (d) => void (d.schemaVersion = v))),
    // Another kind is not a backup, and not the JSON of show either (that has no "kind").
    fc
      .oneof(
        anyString.filter((s) => s !== 'ehcp-backup'),
        fc.integer(),
        j(null),
        j(['ehcp-backup']),
      )
      .map((v) => edit(`kind = ${JSON.stringify(v)}`, (d) => void (d.kind = v))),
    fc
      .tuple(fc.constantFrom('namespace', 'eventHub', 'consumerGroup'), notName)
      .map(([key, v]) => edit(`${key} = ${JSON.stringify(v)}`, (d) => void (d[key] = v))),
    notList.map((v) => edit(`partitions = ${JSON.stringify(v)}`, (d) => void (d.partitions = v))),
    fc
      .tuple(at, fc.oneof(fc.integer(), anyString, fc.boolean(), j(null), j([])))
      .map(([i, v]) => edit(`partitions[${i}] = ${JSON.stringify(v)}`, (d) => void (entries(d)[i] = v as JsonObject))),
    fc
      .tuple(at, fc.oneof(notString, badPartitionText))
      .map(([i, v]) => edit(`partitionId = ${JSON.stringify(v)}`, (d) => void (entries(d)[i]!.partitionId = v))),
    fc
      .tuple(at, fc.oneof(notString, fc.constant(''), otherBlobName))
      .map(([i, v]) => edit(`blobName = ${JSON.stringify(v)}`, (d) => void (entries(d)[i]!.blobName = v))),
    fc
      .tuple(at, fc.oneof(fc.integer(), anyString, fc.boolean(), j([]), j(['offset'])))
      .map(([i, v]) => edit(`metadata = ${JSON.stringify(v)}`, (d) => void (entries(d)[i]!.metadata = v))),
    fc
      .tuple(at, fc.oneof(fc.integer(), fc.boolean(), j(null), j({}), j(['1'])))
      .map(([i, v]) => edit(`a metadata value = ${JSON.stringify(v)}`, (d) => void (metadataOf(d, i).offset = v))),
    fc.tuple(at, badMetadataName).map(([i, k]) => edit(`metadata name ${JSON.stringify(k)}`, (d) => void (metadataOf(d, i)[k] = '1'))),
    fc
      .tuple(at, badMetadataValue)
      .map(([i, v]) => edit(`metadata value ${JSON.stringify(v.slice(0, 40))}`, (d) => void (metadataOf(d, i).clientid = v))),
    at.map((i) =>
      edit(`metadata names differing in case only`, (d) => {
        const metadata = metadataOf(d, i)
        const [name, value] = Object.entries(metadata)[0]!
        metadata[name.toUpperCase()] = value
      }),
    ),
    at.map((i) => edit(`partitions[${i}] twice`, (d) => void entries(d).push(clone(entries(d)[i]!)))),
    // The blobs of another group (that exists) under this group's name: refused, nothing restored.
    fc.constant(edit('consumerGroup = another existing group', (d) => void (d.consumerGroup = OTHER), {mention: 'is not in'})),
    // A group named that its blobs are not in: refused (a backup restores its blobs whatever exists now, so the
    // group need not exist, but its entries must be the group's).
    missingGroupName.map((v) => edit(`consumerGroup = ${v}`, (d) => void (d.consumerGroup = v), {mention: 'is not in'})),
    // Scope flags must agree with the group a backup names.
    fc
      .constantFrom<string[]>(['--consumer-group', OTHER], ['--eventhub', 'payments'], ['--namespace', 'elsewhere.servicebus.windows.net'])
      .map((args) => ({
        format: 'backup' as const,
        what: `a valid backup with ${args.join(' ')}`,
        text: jsonWithLiterals(base, []),
        args,
        mention: 'is a backup of',
      })),
  ]
}

function mangledCsv(t: Templates): Array<fc.Arbitrary<Mangled>> {
  const base = t['show-csv']
  const head = base[0]!
  const col = (name: string) => head.indexOf(name)
  const row = fc.integer({min: 1, max: base.length - 1})
  const edit = (what: string, change: (rows: string[][]) => void): Mangled => {
    const rows = clone(base)
    change(rows)
    return {format: 'show-csv', what, text: toCsv(rows)}
  }
  const cell = (name: string, values: fc.Arbitrary<string>) =>
    fc
      .tuple(row, values)
      .map(([r, v]) => edit(`line ${r + 1} ${name} = ${JSON.stringify(v.slice(0, 40))}`, (rows) => void (rows[r]![col(name)] = v)))
  return [
    cell('sequenceNumber', badSequenceText),
    cell('offset', badOffsetText),
    cell('partitionId', badPartitionText),
    fc
      .tuple(row, fc.boolean())
      .map(([r, more]) =>
        edit(`line ${r + 1} with a field ${more ? 'more' : 'less'}`, (rows) => void (more ? rows[r]!.push('x') : rows[r]!.pop())),
      ),
    row.map((r) => edit(`line ${r + 1} twice`, (rows) => void rows.push([...rows[r]!]))),
    fc
      .tuple(fc.constantFrom('partitionId', 'sequenceNumber', 'offset'), fc.constantFrom('', 'partitionid', 'sequence', ' offset', 'x'))
      .map(([name, other]) => edit(`header without ${name}`, (rows) => void (rows[0]![col(name)] = other))),
    // Cut inside a data line, before its last comma: that line is short of fields.
    fc.tuple(row, fc.nat()).map(([r, cut]) => {
      const line = base[r]!.join(',')
      const end = 1 + (cut % line.lastIndexOf(','))
      return {
        format: 'show-csv' as const,
        what: `cut in line ${r + 1} at ${end}`,
        text: `${base
          .slice(0, r)
          .map((l) => l.join(','))
          .join('\n')}\n${line.slice(0, end)}`,
      }
    }),
  ]
}

/** Any of the three formats: truncated, emptied, prefixed, overwritten with bytes, or mangled as above. */
function mangledPlanFile(t: Templates): Array<fc.Arbitrary<Mangled>> {
  const jsonText = (format: 'show-json' | 'backup') => jsonWithLiterals(t[format], [])
  const truncated = fc.tuple(fc.constantFrom('show-json' as const, 'backup' as const), fc.nat()).map(([format, cut]): Mangled => {
    const text = jsonText(format)
    const end = cut % text.lastIndexOf('}')
    return {format, what: `cut at ${end} of ${text.length}`, text: text.slice(0, end)}
  })
  const trailingGarbage = fc
    .tuple(fc.constantFrom('show-json' as const, 'backup' as const), fc.uint8Array({minLength: 1, maxLength: 64}))
    .map(([format, bytes]): Mangled => ({
      format,
      what: `followed by ${bytes.length} bytes`,
      text: Buffer.concat([Buffer.from(jsonText(format)), Buffer.from([0x78]), bytes]),
    }))
  const bytes = fc
    .uint8Array({minLength: 1, maxLength: 512})
    .map((b): Mangled => ({format: 'show-csv', what: `${b.length} random bytes`, text: b}))
  const blank = fc
    .constantFrom('', '\n', ' \t\r\n', '\uFEFF', '\uFEFF\n')
    .map((text): Mangled => ({format: 'show-csv', what: `blank ${JSON.stringify(text)}`, text}))
  const notAnObject = fc
    .constantFrom(
      '[]',
      '[{"partitionId": "0"}]',
      '"partitions"',
      '42',
      'null',
      '{"error": {"code": "usage", "message": "x", "exitCode": 2}}',
    )
    .map((text): Mangled => ({format: 'show-json', what: text, text}))
  // A BOM is tolerated (see below), so a BOM in front of a broken file is still a broken file.
  const bomThenBroken = truncated.map((m): Mangled => ({...m, what: `BOM, then ${m.what}`, text: `\uFEFF${m.text as string}`}))
  return [
    ...mangledShowJson(t),
    ...mangledBackup(t),
    ...mangledCsv(t),
    truncated,
    bomThenBroken,
    trailingGarbage,
    bytes,
    blank,
    notAnObject,
  ]
}

/**
 * Each family of inputs once (one sample of each, in order: they run first, so every kind of bad input is
 * tried whatever the seed), then random draws from all of them.
 */
function everyFamily<T>(families: Array<fc.Arbitrary<T>>): {arbitrary: fc.Arbitrary<T>; examples: T[]} {
  return {arbitrary: fc.oneof(...families), examples: families.map((family, i) => fc.sample(family, {numRuns: 1, seed: SEED + i})[0]!)}
}

// ---------------------------------------------------------------------------------------------------------

describe('bad input, end to end (property-based)', function () {
  this.timeout(120_000)
  let c: TestContainer
  let store: BlobCheckpointStore
  let cwd: string
  let bogusEventHubs: string
  const templates = {} as Templates
  /** The dry-run plan of each valid template (what every accepted variation must still plan). */
  const baseline = {} as Record<Format, ChangeResult>
  let fileCounter = 0

  const ehcp = (args: string[]) => runEhcp([...args, ...c.args], {cwd})
  const filesInCwd = () => readdirSync(cwd).length
  const writePlan = (format: Format, text: string | Uint8Array) => {
    const name = `plan-${++fileCounter}.${format === 'show-csv' ? 'csv' : 'json'}`
    writeFileSync(path.join(cwd, name), text)
    return name
  }
  const checkpointMetadata = async (partitionId: string) =>
    (await c.client.getBlobClient(`${NS}/${HUB}/${GROUP}/checkpoint/${partitionId}`).getProperties()).metadata ?? {}

  before(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-bad-input-'))
    // A closed loopback port: valid values dial it and fail (exit 7). Its host is not the checkpoints' namespace,
    // so the lookups say they mean it (--ignore-namespace-mismatch).
    bogusEventHubs = `Endpoint=sb://127.0.0.1:${CLOSED_PORT}/;SharedAccessKeyName=k;SharedAccessKey=a2V5;UseDevelopmentEmulator=true`
    const claim = (group: string, ownerId: string, etags: Record<string, string> = {}) =>
      store.claimOwnership(
        PARTITIONS.map((partitionId) => ({
          fullyQualifiedNamespace: NS,
          eventHubName: HUB,
          consumerGroup: group,
          partitionId,
          ownerId,
          etag: etags[partitionId],
        })),
      )
    for (const [group, count] of [
      [GROUP, 4],
      [OTHER, 2],
    ] as const) {
      for (const partitionId of PARTITIONS.slice(0, count)) {
        const sequenceNumber = 100 + Number(partitionId)
        await store.updateCheckpoint({
          fullyQualifiedNamespace: NS,
          eventHubName: HUB,
          consumerGroup: group,
          partitionId,
          sequenceNumber,
          offset: String(sequenceNumber * 10),
        })
      }
    }
    await claim(GROUP, 'worker-a')

    // The three formats, as the CLI writes them.
    const showJson = await ehcp(['show', '--consumer-group', GROUP, '--json'])
    expect(showJson.code, describeRun(showJson)).to.equal(0)
    templates['show-json'] = showJson.json<JsonObject>()
    const showCsv = await ehcp(['show', '--consumer-group', GROUP, '--csv'])
    expect(showCsv.code, describeRun(showCsv)).to.equal(0)
    expect(showCsv.stdout).not.to.include('"')
    templates['show-csv'] = showCsv.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split(','))
    expect(toCsv(templates['show-csv'])).to.equal(showCsv.stdout)

    // A backup of every checkpoint and ownership blob: move the checkpoints, release the owners, keep both backups.
    const moved = clone(templates['show-json'])
    for (const p of entries(moved))
      (p.checkpoint as JsonObject).sequenceNumber = ((p.checkpoint as JsonObject).sequenceNumber as number) + 1000
    const move = await ehcp([
      'reset',
      '--from-file',
      writePlan('show-json', JSON.stringify(moved)),
      '--yes',
      '--force',
      '--backup-file',
      'backup-checkpoints.json',
    ])
    expect(move.code, describeRun(move)).to.equal(0)
    const release = await ehcp([
      'release-ownership',
      '--consumer-group',
      GROUP,
      '--owner',
      'worker-a',
      '--yes',
      '--backup-file',
      'backup-ownerships.json',
    ])
    expect(release.code, describeRun(release)).to.equal(0)
    const [checkpointsBackup, ownershipsBackup] = ['backup-checkpoints.json', 'backup-ownerships.json'].map(
      (f) => JSON.parse(readFileSync(path.join(cwd, f), 'utf8')) as JsonObject,
    )
    templates.backup = {...checkpointsBackup!, partitions: [...entries(checkpointsBackup!), ...entries(ownershipsBackup!)]}
    // Active owners again (another worker), so that every template is a real change, refused without --force.
    const etags = Object.fromEntries((await store.listOwnership(NS, HUB, GROUP)).map((o) => [o.partitionId, o.etag!]))
    await claim(GROUP, 'worker-b', etags)
    // A backup restores only blobs that still hold what its change wrote (and its write's ETag): the ownerships
    // now hold worker-b's claim, so the template's entries say that is what was written, with no ETag (the
    // checkpoints are as the reset left them).
    for (const entry of entries(ownershipsBackup!)) {
      entry.written = (await c.client.getBlobClient(entry.blobName as string).getProperties()).metadata ?? {}
      delete entry.writtenEtag
    }

    for (const format of ['show-json', 'backup', 'show-csv'] as const) {
      const text = format === 'show-csv' ? toCsv(templates[format]) : jsonWithLiterals(templates[format], [])
      const r = await ehcp(['reset', '--from-file', writePlan(format, text), '--dry-run', '--json'])
      expect(r.code, describeRun(r)).to.equal(0)
      baseline[format] = r.json<ChangeResult>()
      const planned = baseline[format].partitions.filter((p) => p.status === 'planned')
      expect(planned, format).to.have.length(format === 'backup' ? 8 : 4)
      const refused = await ehcp(['reset', '--from-file', writePlan(format, text), '--yes', '--no-backup'])
      expect(refused.code, `${format}: active owners refuse a valid plan\n${describeRun(refused)}`).to.equal(5)
    }
  })

  after(async () => {
    await c.dispose()
    rmSync(cwd, {recursive: true, force: true})
  })

  it('plan files, mangled in every way: exit 2 (3 for a group that does not exist), a one-line message, nothing written, no backup', async () => {
    const {arbitrary, examples} = everyFamily(mangledPlanFile(templates))
    const before = await snapshot(c.client)
    await fc.assert(
      fc.asyncProperty(arbitrary, fc.boolean(), async (m, json) => {
        const file = writePlan(m.format, m.text)
        const files = filesInCwd()
        // --force and --yes: a plan wrongly accepted would be written, not stopped by the guard or a prompt.
        const r = await ehcp(['reset', '--from-file', file, '--yes', '--force', ...(m.args ?? []), ...(json ? ['--json'] : [])])
        expectRefusal(r, json, m.mention ?? file, m.exitCode ?? 2)
        expect(filesInCwd(), `${m.what}: a backup file was written`).to.equal(files)
      }),
      {...runs(examples.length + 12), examples: examples.map((m, i): [Mangled, boolean] => [m, i % 2 === 1])},
    )
    expect(await snapshot(c.client)).to.deep.equal(before)
  })

  it('plan files, varied in ways the contract accepts: unknown fields and columns, a BOM, CRLF, partitions not in the group, incomplete positions', async () => {
    // Unknown fields are ignored: the JSON of show carries many ehcp does not read (lag, ownership, problems),
    // and both JSON documents are additive (README "Additive JSON fields"). A BOM (Excel, PowerShell) and CRLF
    // are tolerated. A partition the group has no blob for gets a new checkpoint blob, with a warning, as
    // `set` does; a backup restores whatever it lists. Partitions without a complete position are left as they
    // are, and the plan says so. Each is checked against the dry-run plan of the unvaried file.
    const KNOWN = new Set([
      'schemaVersion',
      'kind',
      'namespace',
      'eventHub',
      'consumerGroup',
      'partitions',
      'partitionId',
      'checkpoint',
      'sequenceNumber',
      'offset',
      'blobName',
      'metadata',
      'error',
      '__proto__',
    ])
    const unknownName = anyString.filter((s) => !KNOWN.has(s))
    const newPartition = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).filter((id) => !PARTITIONS.includes(id.toLowerCase()))
    type Variation = {format: Format; what: string; text: string; expected: (base: PartitionResult[]) => PartitionResult[]; notes?: RegExp}
    const same = (base: PartitionResult[]) => base
    const json = (doc: Json) => jsonWithLiterals(doc, [])
    const {arbitrary: variation, examples} = everyFamily<Variation>([
      fc
        .tuple(
          fc.constantFrom('show-json' as const, 'backup' as const),
          fc.nat(),
          fc.constantFrom('top', 'entry', 'checkpoint'),
          unknownName,
          fc.jsonValue(),
        )
        .map(([format, i, where, name, value]): Variation => {
          const doc = clone(templates[format])
          const entry = entries(doc)[i % entries(doc).length]!
          const target = where === 'top' ? doc : where === 'checkpoint' && format === 'show-json' ? (entry.checkpoint as JsonObject) : entry
          target[name] = value as Json
          return {format, what: `${where} field ${JSON.stringify(name)}`, text: json(doc), expected: same}
        }),
      fc.tuple(unknownName, fc.array(anyString, {minLength: 4, maxLength: 4})).map(([name, values]): Variation => {
        const rows = templates['show-csv'].map((r, i) => [...r, i === 0 ? name : values[i - 1]!])
        return {format: 'show-csv', what: `column ${JSON.stringify(name)}`, text: toCsv(rows), expected: same}
      }),
      fc
        .tuple(fc.constantFrom<Format>('show-json', 'backup', 'show-csv'), fc.boolean(), fc.boolean())
        .map(([format, bom, crlf]): Variation => {
          let text = format === 'show-csv' ? toCsv(templates[format]) : json(templates[format])
          if (crlf || !bom) text = text.replace(/\n/g, '\r\n')
          return {format, what: `${bom ? 'BOM ' : ''}${crlf || !bom ? 'CRLF' : ''}`, text: bom ? `\uFEFF${text}` : text, expected: same}
        }),
      fc.tuple(fc.constantFrom<Format>('show-json', 'backup', 'show-csv'), newPartition).map(([format, id]): Variation => {
        const blobName = `${NS}/${HUB}/${GROUP}/checkpoint/${id}`
        let text: string
        if (format === 'show-csv')
          text = toCsv([
            ...templates[format],
            templates[format][0]!.map((name) => ({partitionId: id, sequenceNumber: '5', offset: '50'})[name] ?? ''),
          ])
        else if (format === 'show-json')
          text = json({
            ...templates[format],
            partitions: [...entries(templates[format]), {partitionId: id, checkpoint: {sequenceNumber: 5, offset: '50'}}],
          })
        // A backup entry whose change deleted the blob (written: null): restored while the blob is still absent.
        else
          text = json({
            ...templates[format],
            partitions: [
              ...entries(templates[format]),
              {partitionId: id, blobName, metadata: {sequencenumber: '5', offset: '50'}, etag: null, written: null},
            ],
          })
        const added = (base: PartitionResult[]) => {
          const item = {
            partitionId: id,
            blobName,
            before: null,
            after: {sequenceNumber: 5, offset: '50'},
            delta: null,
            status: 'planned',
            action: format === 'backup' ? 'set-metadata' : 'set-position',
          }
          return [...base, item as PartitionResult]
        }
        return {format, what: `partition ${id} not in the group`, text, expected: added}
      }),
      fc
        .tuple(
          fc.constantFrom('show-json' as const, 'show-csv' as const),
          fc.nat({max: 3}),
          fc.constantFrom('sequenceNumber', 'offset', 'checkpoint'),
        )
        .map(([format, i, field]): Variation => {
          let text: string
          if (format === 'show-csv') {
            const rows = clone(templates[format])
            rows[i + 1]![rows[0]!.indexOf(field === 'checkpoint' ? 'offset' : field)] = ''
            text = toCsv(rows)
          } else {
            const doc = clone(templates[format])
            if (field === 'checkpoint') entries(doc)[i]!.checkpoint = null
            else (entries(doc)[i]!.checkpoint as JsonObject)[field] = null
            text = json(doc)
          }
          const id = PARTITIONS[i]!
          return {
            format,
            what: `no ${field} for partition ${id}`,
            text,
            expected: (base) => base.filter((p) => p.partitionId !== id),
            notes: new RegExp(`no complete position for partition\\(s\\) ${id}:`),
          }
        }),
    ])
    const before = await snapshot(c.client)
    await fc.assert(
      fc.asyncProperty(variation, async (v) => {
        const r = await ehcp(['reset', '--from-file', writePlan(v.format, v.text), '--dry-run', '--json'])
        expect(r.code, `${v.what}\n${describeRun(r)}`).to.equal(0)
        const result = r.json<ChangeResult>()
        const expected = v.expected(baseline[v.format].partitions)
        // The plan, not the owners' state (which ages while the tests run).
        const plan = ({partitionId, blobName, action, before, after, delta, status}: PartitionResult) => ({
          partitionId,
          blobName,
          action,
          before,
          after,
          delta,
          status,
        })
        expect(result.partitions.map(plan), v.what).to.deep.equal(expected.map(plan))
        for (const p of result.partitions) {
          const isNew = !baseline[v.format].partitions.some((b) => b.partitionId === p.partitionId)
          if (isNew && v.format !== 'backup') expect(p.warnings.join(' '), v.what).to.match(/new checkpoint blob will be created/)
        }
        if (v.notes) expect(result.notes.join(' '), v.what).to.match(v.notes)
      }),
      {...runs(examples.length + 7), examples: examples.map((v): [Variation] => [v])},
    )
    expect(await snapshot(c.client)).to.deep.equal(before)
  })

  it('set --sequence-number / --offset, any text: exit 2 and nothing written, or (valid by the oracle) exactly that pair written', async () => {
    const value = (valid: fc.Arbitrary<string>, invalid: fc.Arbitrary<string>) =>
      fc.oneof({arbitrary: valid, weight: 1}, {arbitrary: invalid, weight: 3})
    await fc.assert(
      fc.asyncProperty(
        value(validSequenceText, badSequenceText),
        value(validOffsetText, badOffsetText),
        fc.boolean(),
        async (sequence, offset, json) => {
          const before = await snapshot(c.client)
          const files = filesInCwd()
          const r = await ehcp([
            'set',
            '--partition',
            '1',
            `--sequence-number=${sequence}`,
            `--offset=${offset}`,
            '--yes',
            '--force',
            '--no-backup',
            ...(json ? ['--json'] : []),
          ])
          if (sequenceIsValid(sequence) && offsetIsValid(offset)) {
            expect(r.code, describeRun(r)).to.equal(0)
            expect(await checkpointMetadata('1')).to.include({sequencenumber: BigInt(sequence).toString(), offset})
          } else {
            expectRefusal(r, json, sequenceIsValid(sequence) ? '--offset' : '--sequence-number', 2, sequence + offset)
            expect(await snapshot(c.client)).to.deep.equal(before)
          }
          expect(filesInCwd()).to.equal(files)
        },
      ),
      runs(20),
    )
  })

  it('set --partition and --concurrency, any text: exit 2 and nothing written, or (valid) written', async () => {
    const partition = fc.oneof(
      {arbitrary: fc.constantFrom(...PARTITIONS), weight: 1},
      {arbitrary: badPartitionText.filter(noNul), weight: 3},
    )
    const concurrency = fc.oneof(
      {arbitrary: fc.integer({min: 1, max: 256}).map(String), weight: 1},
      {arbitrary: badConcurrencyText, weight: 2},
    )
    await fc.assert(
      fc.asyncProperty(partition, concurrency, fc.boolean(), async (p, n, json) => {
        const before = await snapshot(c.client)
        const r = await ehcp([
          'set',
          `--partition=${p}`,
          '--sequence-number',
          '7',
          '--offset',
          '70',
          `--concurrency=${n}`,
          '--yes',
          '--force',
          '--no-backup',
          ...(json ? ['--json'] : []),
        ])
        if (partitionIsValid(p) && concurrencyIsValid(n)) {
          expect(r.code, describeRun(r)).to.equal(0)
          expect(await checkpointMetadata(p)).to.include({sequencenumber: '7', offset: '70'})
        } else {
          expectRefusal(r, json, concurrencyIsValid(n) ? '--partition' : '--concurrency', 2, p + n)
          expect(await snapshot(c.client)).to.deep.equal(before)
        }
      }),
      runs(14),
    )
  })

  it('reset by time, by shift, by partition, with any text: refused (exit 2) before Event Hubs is dialled; valid values dial it (exit 7 here)', async () => {
    const datetimeMangled = fc.constantFrom(
      '2026-11-26T09:40:00', // no zone
      '2026-02-30T09:40:00Z', // a day February does not have
      '2026-04-31T00:00Z',
      '2025-02-29T00:00Z',
      '2026-13-01T00:00Z',
      '2026-00-10T00:00Z',
      '2026-11-00T00:00Z',
      '2026-11-26T25:00Z',
      '2026-11-26T23:60Z',
      '2026-11-26T09:40:00+25:00',
      '2026-11-26 09:40:00Z',
      '26-11-2026T09:40Z',
      'yesterday',
      '1795686000000',
    )
    type Case = {flag: string; value: string; valid: boolean; scenario?: string[]}
    const invalid = (flag: string, values: fc.Arbitrary<string>, scenario?: string[]) =>
      values.filter(noNul).map((value): Case => ({flag, value, valid: false, scenario}))
    const valid = (flag: string, values: string[], scenario?: string[]) =>
      fc.constantFrom(...values).map((value): Case => ({flag, value, valid: true, scenario}))
    const {arbitrary: cases, examples} = everyFamily<Case>([
      // A duration always has a digit; these have none, or a unit ehcp does not know, or a sign, or overflow.
      invalid(
        '--by-duration',
        anyString.filter((s) => !/\d/.test(s)),
      ),
      invalid(
        '--by-duration',
        fc
          .tuple(fc.nat(), fc.constantFrom('x', 'sec', 'min', 'hours', 'y', 'w', 'mo', ' m', 'm5', 'PT', 'P'))
          .map(([n, unit]) => `${n}${unit}`),
      ),
      invalid(
        '--by-duration',
        fc.constantFrom(
          '-2h',
          '+2h',
          '2',
          'PT',
          'P',
          'T2H',
          '2h-',
          '1e3s',
          `${'9'.repeat(25)}d`,
          `${'9'.repeat(400)}s`,
          `P${'9'.repeat(30)}D`,
        ),
      ),
      // A time needs a "T"; these have none, or are a day the calendar does not have, or lack a zone.
      invalid(
        '--to-datetime',
        anyString.filter((s) => !/t/i.test(s)),
      ),
      invalid('--to-datetime', datetimeMangled),
      invalid(
        '--shift-by',
        fc.oneof(
          anyString.filter((s) => !/^-?\d+$/.test(s)),
          fc.bigInt({min: 2n ** 53n, max: 2n ** 80n}).map(String),
          fc.bigInt({min: -(2n ** 80n), max: -(2n ** 53n)}).map(String),
        ),
      ),
      invalid('--partition', badPartitionList, ['--to-latest']),
      invalid('--concurrency', badConcurrencyText, ['--to-earliest']),
      valid('--by-duration', ['2h', '90m', 'PT2H', '1h30m', '100000d', ' 2h ']),
      valid('--to-datetime', ['2026-11-26T09:40:00Z', '2026-11-26T10:40:00+01:00', '2024-02-29T00:00:00.5Z', '0001-01-01T00:00Z']),
      valid('--shift-by', ['1', '-5', '0', '9007199254740991', '-9007199254740991']),
      valid('--partition', ['0', '0,1', '3,2'], ['--to-latest']),
      valid('--concurrency', ['1', '256'], ['--to-earliest']),
    ])
    const before = await snapshot(c.client)
    await fc.assert(
      fc.asyncProperty(cases, fc.boolean(), async ({flag, value, valid: ok, scenario}, json) => {
        const r = await ehcp([
          'reset',
          '--consumer-group',
          GROUP,
          `${flag}=${value}`,
          ...(scenario ?? []),
          '--eventhubs-connection-string',
          bogusEventHubs,
          '--ignore-namespace-mismatch',
          '--timeout',
          '10',
          '--dry-run',
          ...(json ? ['--json'] : []),
        ])
        if (ok) expect(r.code, `${flag}=${JSON.stringify(value)}\n${describeRun(r)}`).to.equal(7)
        else expectRefusal(r, json, flag, 2, value)
      }),
      {...runs(examples.length + 12), examples: examples.map((e, i): [Case, boolean] => [e, i % 2 === 1])},
    )
    expect(await snapshot(c.client)).to.deep.equal(before)
  })

  describe('the nastiest plan files: exit 2, nothing written', () => {
    const cases: Array<[string, () => string, string]> = [
      [
        'show JSON naming partition "../../x"',
        () =>
          writePlan('show-json', JSON.stringify({partitions: [{partitionId: '../../x', checkpoint: {sequenceNumber: 5, offset: '50'}}]})),
        '"../../x" is not a partition id',
      ],
      [
        'show CSV naming partition "../../x"',
        () => writePlan('show-csv', 'partitionId,sequenceNumber,offset\n../../x,5,50\n'),
        '"../../x" is not a partition id',
      ],
      [
        'a backup whose blob name climbs out of the group',
        () =>
          writePlan(
            'backup',
            JSON.stringify({
              ...templates.backup,
              partitions: [
                {partitionId: '0', blobName: `${NS}/${HUB}/${GROUP}/../0`, metadata: {sequencenumber: '1', offset: '1'}, etag: null},
              ],
            }),
          ),
        'is not the checkpoint or ownership blob of partition 0',
      ],
      [
        'a directory',
        () => (mkdirSync(path.join(cwd, 'a-directory'), {recursive: true}), 'a-directory'),
        'a-directory is not a regular file',
      ],
      [
        'a FIFO nobody writes to (reading it would block forever)',
        () => (execFileSync('mkfifo', [path.join(cwd, 'a-fifo')]), 'a-fifo'),
        'a-fifo is not a regular file',
      ],
      ['/dev/zero (reading it would never end)', () => '/dev/zero', '/dev/zero is not a regular file'],
      [
        'a 65 MiB file (sparse)',
        () => (writeFileSync(path.join(cwd, 'huge.json'), '{'), truncateSync(path.join(cwd, 'huge.json'), 65 * 1024 * 1024), 'huge.json'),
        'huge.json is 68157440 bytes: more than a plan file can be',
      ],
      ['a path that does not exist', () => 'no/such/plan.json', 'Cannot read no/such/plan.json: ENOENT'],
      [
        'a symbolic link to itself',
        () => (symlinkSync('loop.json', path.join(cwd, 'loop.json')), 'loop.json'),
        'Cannot read loop.json: ELOOP',
      ],
      ['an empty name', () => '', '--from-file is empty'],
      ['a file holding one NUL byte', () => writePlan('show-csv', '\0'), 'no "partitionId" column'],
    ]
    for (const [title, file, message] of cases) {
      it(title, async () => {
        const name = file()
        const before = await snapshot(c.client)
        const files = filesInCwd()
        const r = await ehcp(['reset', '--from-file', name, '--yes', '--force'])
        expectRefusal(r, false, message)
        expect(await snapshot(c.client)).to.deep.equal(before)
        expect(filesInCwd()).to.equal(files)
      })
    }
  })
})

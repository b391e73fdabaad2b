#!/usr/bin/env node
// Everything this process writes passes through redaction, from the first byte: with DEBUG=* even the
// framework's own logging of argv (which may hold a connection string) is covered.
import {redactProcessOutput} from '../dist/src/redact.js'

redactProcessOutput()
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
// The command has finished and said everything. A library can still hold the event loop open (an AMQP
// connection that dropped mid-command keeps reconnect timers): leave shortly, with the exit code as set.
setTimeout(() => process.exit(), 1000).unref()

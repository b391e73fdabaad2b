/** How an Event Hubs client failure maps to the contract's exit codes (classifyEventHubsError), without a service. */
import {expect} from 'chai'

import {ExitCode} from '../../src/errors.js'
import {classifyEventHubsError} from '../../src/eventhubs/reader.js'

const classify = (error: unknown) => classifyEventHubsError(error, 'orders', '$Default')

describe('Event Hubs errors', () => {
  it('a refused connection to a port whose number holds "401" is unreachable (exit 7), not a refused credential', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:40123'), {code: 'ECONNREFUSED'})
    const mapped = classify(error)
    expect(mapped.exitCode).to.equal(ExitCode.unreachable)
    expect(mapped.message).to.contain('ECONNREFUSED')
  })

  it('a connection closed while it opened (rhea-promise\'s plain "Failed to connect", no code) is unreachable (exit 7), not a bug', () => {
    expect(classify(new Error('Failed to connect')).exitCode).to.equal(ExitCode.unreachable)
  })

  it('a link closed with no error given (core-amqp\'s "Unknown error encountered.") is unreachable (exit 7), not a bug', () => {
    expect(classify(new Error('Unknown error encountered.')).exitCode).to.equal(ExitCode.unreachable)
  })

  it('only those exact messages of a plain Error: a bug whose message merely contains them stays a bug (exit 1)', () => {
    expect(classify(new Error('Unknown error encountered while decoding the batch')).exitCode).to.equal(ExitCode.bug)
    expect(classify(Object.assign(new Error('Failed to connect'), {code: 'SomeLibraryBug'})).exitCode).to.equal(ExitCode.bug)
  })

  it('a timeout whose message names such a port is unreachable (exit 7)', () => {
    const error = Object.assign(new Error('Connection to 127.0.0.1:54011 timed out'), {name: 'OperationTimeoutError'})
    expect(classify(error).exitCode).to.equal(ExitCode.unreachable)
  })

  it('a network code deeper in the chain wins over the wrapping message', () => {
    const error = new Error('request failed', {cause: Object.assign(new Error('socket hang up 401'), {code: 'ECONNRESET'})})
    expect(classify(error).exitCode).to.equal(ExitCode.unreachable)
  })

  it('the service refusing the credential is exit 4: by name, by a 401 in the text, or by status code alone', () => {
    const byName = Object.assign(new Error('Unauthorized access. Token is invalid.'), {code: 'UnauthorizedError'})
    const byText = new Error('status 401: the token has expired')
    const byStatus = Object.assign(new Error('denied'), {statusCode: 403})
    for (const error of [byName, byText, byStatus]) expect(classify(error).exitCode, String(error)).to.equal(ExitCode.auth)
  })

  it('no credential found by DefaultAzureCredential is a usage error (exit 2)', () => {
    const error = Object.assign(new Error('EnvironmentCredential is unavailable'), {name: 'CredentialUnavailableError'})
    expect(classify(error).exitCode).to.equal(ExitCode.usage)
  })

  it('a processor holding the partition refuses the reader (exit 5) and says which consumer group to use instead', () => {
    const error = Object.assign(new Error('New receiver with higher epoch of 0 is created'), {code: 'ReceiverDisconnectedError'})
    const mapped = classify(error)
    expect(mapped.exitCode).to.equal(ExitCode.refused)
    expect(mapped.hint).to.contain('--eventhubs-consumer-group')
  })

  it('an unknown entity is not found (exit 3), but ENOTFOUND from DNS is unreachable (exit 7)', () => {
    const missing = Object.assign(new Error("The messaging entity 'sb://ns/orders' could not be found."), {
      code: 'MessagingEntityNotFoundError',
    })
    expect(classify(missing).exitCode).to.equal(ExitCode.notFound)
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND ns.servicebus.windows.net'), {code: 'ENOTFOUND'})
    expect(classify(dns).exitCode).to.equal(ExitCode.unreachable)
  })
})

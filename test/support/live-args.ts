/**
 * The argv of a `reset --live` as the live tests run it: unattended (--yes, JSON, no backup file) and with ehcp's
 * own reads of the event hub in the stand-in's `ehcp` consumer group, apart from the processors' `$Default`.
 */
export function liveResetArgs(hub: string, scenario: string[], options: {wait: string; batch?: number; extra?: string[]}): string[] {
  return [
    'reset',
    '--eventhub',
    hub,
    ...scenario,
    '--live',
    ...(options.batch === undefined ? [] : ['--live-batch', String(options.batch)]),
    '--live-wait',
    options.wait,
    '--eventhubs-consumer-group',
    'ehcp',
    '--yes',
    '--json',
    '--no-backup',
    ...(options.extra ?? []),
  ]
}

// The Grafana dashboard (dashboards/ehcp.json) asks only for what the exporter exports: every metric name in its
// queries is one the exporter defines, every label one it sets (or Prometheus' own job/instance), and it is in
// the shape Grafana's import expects (a Prometheus data source input, unique panel ids, every panel on it).
import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {METRIC_NAMES} from '../../src/exporter/metrics.js'

interface Target {
  expr: string
  legendFormat?: string
  format?: string
  refId: string
  datasource: {uid: string}
}
interface Panel {
  id: number
  type: string
  title: string
  datasource?: {uid: string}
  targets?: Target[]
}
interface Dashboard {
  __inputs: {name: string; type: string; pluginId: string}[]
  uid: string
  title: string
  panels: Panel[]
  templating: {list: {name: string; query: {query: string}; datasource: {uid: string}}[]}
}

const dashboard = JSON.parse(readFileSync(new URL('../../../dashboards/ehcp.json', import.meta.url), 'utf8')) as Dashboard
const LABELS = new Set(['namespace', 'eventhub', 'consumer_group', 'partition', 'job', 'instance'])
const DATA_SOURCE = '${DS_PROMETHEUS}'

const queryPanels = dashboard.panels.filter((p) => p.type !== 'row')
const exprs = [...queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.query.query)]
/** The ehcp_… names a query mentions. */
const metricsIn = (expr: string) => expr.match(/\behcp_[a-z_]+\b/g) ?? []
/** Label names a query uses: in selectors (`name=~"…"`), and in by/on/ignoring/without lists and label_values(). */
function labelsIn(expr: string): string[] {
  const selectors = [...expr.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)\s*"/g)].map((m) => m[1])
  const lists = [...expr.matchAll(/\b(?:by|on|ignoring|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()))
  const values = [...expr.matchAll(/label_values\([^,]*,\s*([a-z_]+)\)/g)].map((m) => m[1])
  return [...selectors, ...lists, ...values].filter(Boolean)
}

describe('the Grafana dashboard', () => {
  it('has query panels, each with at least one query', () => {
    expect(queryPanels.length).to.be.greaterThan(5)
    for (const p of queryPanels) expect(p.targets, p.title).to.be.an('array').that.is.not.empty
  })

  it('names only metrics the exporter exports, and shows every one of them', () => {
    const used = new Set(exprs.flatMap((e) => metricsIn(e)))
    expect(used.size).to.be.greaterThan(0)
    for (const name of used) expect(METRIC_NAMES, `dashboard query names ${name}`).to.include(name)
    for (const name of METRIC_NAMES) expect([...used], `no panel shows ${name}`).to.include(name)
  })

  it('uses only the labels the exporter sets (and Prometheus adds)', () => {
    const used = exprs.flatMap((e) => labelsIn(e))
    expect(used).to.include.members(['namespace', 'eventhub', 'consumer_group'])
    for (const label of used) expect(LABELS.has(label), `unknown label ${label}`).to.equal(true)
    // Graphed series of a per-partition metric are told apart by their partition in the legend (tables show labels).
    const perPartition = queryPanels
      .flatMap((p) => p.targets ?? [])
      .filter((t) => /\behcp_partition_lag/.test(t.expr) && t.format !== 'table')
    expect(perPartition).to.not.be.empty
    for (const t of perPartition) expect(t.legendFormat).to.include('{{partition}}')
  })

  it('is importable: a Prometheus data source input that every panel, query and variable uses; unique panel ids', () => {
    expect(dashboard.__inputs).to.deep.include({
      ...dashboard.__inputs[0],
      name: 'DS_PROMETHEUS',
      type: 'datasource',
      pluginId: 'prometheus',
    })
    expect(dashboard.uid).to.be.a('string').and.not.empty
    const ids = dashboard.panels.map((p) => p.id)
    expect(new Set(ids).size).to.equal(ids.length)
    for (const p of queryPanels) {
      expect(p.datasource?.uid, p.title).to.equal(DATA_SOURCE)
      for (const t of p.targets ?? []) expect(t.datasource.uid, `${p.title} ${t.refId}`).to.equal(DATA_SOURCE)
    }
    expect(dashboard.templating.list.map((v) => v.name)).to.deep.equal(['namespace', 'eventhub', 'consumer_group'])
    for (const v of dashboard.templating.list) expect(v.datasource.uid).to.equal(DATA_SOURCE)
  })
})

/**
 * ETags as the service gives them: quoted in response headers ("0x8D..."), bare in listings (0x8D...), and weak
 * (W/"...") from some proxies. Two spellings of one version compare equal here, and only here.
 */
const bare = (etag: string) => etag.replace(/^(W\/)?"|"$/g, '')

export const sameEtag = (a: string, b: string): boolean => bare(a) === bare(b)

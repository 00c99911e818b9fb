// Adds the request body option (used by gateway-overhead's POST load) to lib/autocannon.d.ts.
declare module "autocannon" {
  interface Options {
    /** The request body, sent with every request. */
    body?: string | Buffer;
  }
}

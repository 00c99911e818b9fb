/** Portkey's CLI entry point: importing it starts its server (no exports). */
declare module "@portkey-ai/gateway/build/start-server.js";

// A mistake in the command line itself: the CLI prints it with the usage text and exits with 2.
export class UsageError extends Error {}

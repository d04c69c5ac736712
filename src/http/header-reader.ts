/** Reads one header by its lower-case name; `undefined` when absent. */
export type HeaderReader = (name: string) => string | undefined

/**
 * @since 0.1.0
 */

/**
 * Errors of the protocol layer: refused inputs and broken byte streams.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.ts"

/**
 * Reply forms and the expectations that say which one a request produces.
 *
 * @since 0.1.0
 */
export * as Reply from "./Reply.ts"

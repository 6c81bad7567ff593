/** An error answer from the daemon: status code and Docker's `message`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The daemon could not be reached at all. */
export class ConnectError extends Error {
  override name = "ConnectError";
}

/** One syntax error, at a 1-based line and column. */
export interface SyntaxDiagnostic {
  line: number;
  column: number;
  message: string;
}

export interface SyntaxCheck {
  ok: boolean;
  errors: SyntaxDiagnostic[];
  /** Which parser decided, e.g. `typescript@5.9.3`, `cpython 3.11.4 compile()`, `tree-sitter-rust`. */
  parser: string;
}

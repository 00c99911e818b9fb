/**
 * The outline of a source file from its tree-sitter tree: top-level functions, classes (Rust
 * structs, enums and traits; Go structs and interfaces; Java classes, interfaces, enums and
 * records) and their methods, with parameters and whether each is part of the public surface.
 */
import type { Language } from "./languages.js";
import { treeTokens } from "./tokens.js";
import { childrenOf, isComment, namedChildrenOf, type SyntaxNode, withTree } from "./tree-sitter.js";

export interface FunctionSignature {
  kind: "function" | "method" | "class";
  name: string;
  /** Dotted path from the top level: `Stack.push`, `Outer.Inner.run`. */
  qualifiedName: string;
  /** Each parameter as its tokens joined by single spaces (`b : int = 1`), so formatting never matters. */
  parameters: string[];
  /** 1-based, inclusive; the range covers decorators, `export` and attributes. */
  startLine: number;
  endLine: number;
  /** Offsets in the source (UTF-16 code units), end exclusive. */
  startIndex: number;
  endIndex: number;
  /**
   * Public by the language's rule: `export` or `module.exports` (JS/TS), no leading underscore
   * (Python), `pub` (Rust), a capital letter (Go), `public` or an interface member (Java) — and,
   * for a member, its enclosing class is public too.
   */
  exported: boolean;
}

export interface FunctionDefinition extends FunctionSignature {
  /** The definition's source text. */
  code: string;
}

/** A signature plus where its header (through the parameters) ends, for selection-aware checks. */
export interface Definition extends FunctionSignature {
  headerEndIndex: number;
}

interface Scope {
  qualifier: string;
  exported: boolean;
}

interface Outline {
  code: string;
  definitions: Definition[];
}

const TOP: Scope = { qualifier: "", exported: true };

function add(
  outline: Outline,
  node: SyntaxNode,
  kind: FunctionSignature["kind"],
  name: string,
  scope: Scope,
  exported: boolean,
  parameters: SyntaxNode | null = null,
  declaration: SyntaxNode | null = null,
): Scope {
  // The header is what a signature is made of: up to the parameters, or the name.
  const header = parameters ?? declaration?.childForFieldName("name") ?? null;
  const qualifiedName = scope.qualifier === "" ? name : `${scope.qualifier}.${name}`;
  outline.definitions.push({
    kind,
    name,
    qualifiedName,
    parameters: parameters === null ? [] : parameterList(parameters, outline.code),
    startLine: node.startPosition.row + 1,
    endLine: node.endPosition.row + 1,
    startIndex: node.startIndex,
    endIndex: node.endIndex,
    exported,
    headerEndIndex: header?.endIndex ?? node.endIndex,
  });
  return { qualifier: qualifiedName, exported };
}

function tokenText(node: SyntaxNode, code: string): string {
  return treeTokens(node, code)
    .map((token) => token.text)
    .join(" ");
}

function parameterList(parameters: SyntaxNode, code: string): string[] {
  return namedChildrenOf(parameters)
    .filter((parameter) => !isComment(parameter))
    .flatMap((parameter) => {
      // Go's `a, b int` declares two parameters; spell each out so `a int, b int` compares equal.
      const names = parameter.type === "parameter_declaration" ? parameter.childrenForFieldName("name") : [];
      const type = parameter.childForFieldName("type");
      if (names.length > 1 && type !== null) {
        return names.flatMap((name) => (name === null ? [] : [`${name.text} ${tokenText(type, code)}`]));
      }
      return [tokenText(parameter, code)];
    });
}

function nameOf(node: SyntaxNode): string | undefined {
  return node.childForFieldName("name")?.text;
}

// Python ----------------------------------------------------------------------------------------

function isPublicPythonName(name: string): boolean {
  return !name.startsWith("_") || (name.startsWith("__") && name.endsWith("__"));
}

function pythonMembers(outline: Outline, container: SyntaxNode, scope: Scope, inClass: boolean): void {
  for (const child of namedChildrenOf(container)) {
    const definition = child.type === "decorated_definition" ? child.childForFieldName("definition") : child;
    const name = definition === null ? undefined : nameOf(definition);
    if (definition === null || name === undefined) continue;
    const exported = scope.exported && isPublicPythonName(name);
    const body = definition.childForFieldName("body");
    if (definition.type === "function_definition") {
      const parameters = definition.childForFieldName("parameters");
      add(outline, child, inClass ? "method" : "function", name, scope, exported, parameters, definition);
    } else if (definition.type === "class_definition") {
      const inner = add(outline, child, "class", name, scope, exported, null, definition);
      if (body !== null) pythonMembers(outline, body, inner, true);
    }
  }
}

// JavaScript and TypeScript ---------------------------------------------------------------------

const FUNCTION_VALUES = new Set([
  "arrow_function",
  "function_expression",
  "function",
  "generator_function",
  "generator_function_expression",
]);

/** Names made public by `export { a, b as c }` and CommonJS `module.exports = { a, b }`. */
function scriptExportedNames(program: SyntaxNode): Set<string> {
  const names = new Set<string>();
  for (const statement of namedChildrenOf(program)) {
    if (statement.type === "export_statement") {
      for (const specifier of statement.descendantsOfType("export_specifier")) {
        const name = specifier?.childForFieldName("name")?.text;
        if (name !== undefined) names.add(name);
      }
    }
    const assignment = statement.type === "expression_statement" ? statement.firstNamedChild : null;
    if (assignment?.type !== "assignment_expression") continue;
    if (assignment.childForFieldName("left")?.text !== "module.exports") continue;
    const value = assignment.childForFieldName("right");
    if (value?.type === "identifier") names.add(value.text);
    for (const property of value?.type === "object" ? namedChildrenOf(value) : []) {
      if (property.type === "shorthand_property_identifier") names.add(property.text);
      const pairValue = property.type === "pair" ? property.childForFieldName("value") : null;
      if (pairValue?.type === "identifier") names.add(pairValue.text);
    }
  }
  return names;
}

/** `exports.f = function () {}` and `module.exports.f = (a) => {}`. */
function commonJsFunction(outline: Outline, statement: SyntaxNode): void {
  const assignment = statement.firstNamedChild;
  if (assignment?.type !== "assignment_expression") return;
  const left = assignment.childForFieldName("left");
  const value = assignment.childForFieldName("right");
  const target = left?.childForFieldName("object")?.text;
  const name = left?.childForFieldName("property")?.text;
  if (left?.type !== "member_expression" || name === undefined || value === null) return;
  if ((target !== "exports" && target !== "module.exports") || !FUNCTION_VALUES.has(value.type)) return;
  add(outline, statement, "function", name, TOP, true, value.childForFieldName("parameters"));
}

function isPrivateMember(member: SyntaxNode, name: string): boolean {
  const modifier = childrenOf(member).find((child) => child.type === "accessibility_modifier");
  return name.startsWith("#") || modifier?.text === "private" || modifier?.text === "protected";
}

function scriptClassMembers(outline: Outline, body: SyntaxNode, scope: Scope): void {
  for (const member of namedChildrenOf(body)) {
    const name = nameOf(member) ?? member.childForFieldName("property")?.text;
    if (name === undefined) continue;
    const exported = scope.exported && !isPrivateMember(member, name);
    if (/^(method_definition|abstract_method_signature|method_signature)$/.test(member.type)) {
      const parameters = member.childForFieldName("parameters");
      add(outline, member, "method", name, scope, exported, parameters, member);
      continue;
    }
    const value = member.childForFieldName("value");
    if (/field_definition$/.test(member.type) && value !== null && FUNCTION_VALUES.has(value.type)) {
      add(outline, member, "method", name, scope, exported, value.childForFieldName("parameters"), member);
    }
  }
}

function scriptDeclaration(
  outline: Outline,
  declaration: SyntaxNode,
  range: SyntaxNode,
  exported: (name: string) => boolean,
): void {
  const type = declaration.type;
  const body = declaration.childForFieldName("body");
  const parameters = declaration.childForFieldName("parameters");
  const name = nameOf(declaration) ?? "default";
  if (/^(function_declaration|generator_function_declaration|function_signature)$/.test(type)) {
    add(outline, range, "function", name, TOP, exported(name), parameters, declaration);
  } else if (/^(class_declaration|abstract_class_declaration|class)$/.test(type)) {
    const scope = add(outline, range, "class", name, TOP, exported(name), null, declaration);
    if (body !== null) scriptClassMembers(outline, body, scope);
  } else if (type === "lexical_declaration" || type === "variable_declaration") {
    for (const declarator of namedChildrenOf(declaration)) {
      const variable = declarator.childForFieldName("name");
      const value = declarator.childForFieldName("value");
      if (variable?.type !== "identifier" || value === null || !FUNCTION_VALUES.has(value.type)) continue;
      const valueParameters = value.childForFieldName("parameters") ?? value.childForFieldName("parameter");
      add(
        outline,
        range,
        "function",
        variable.text,
        TOP,
        exported(variable.text),
        valueParameters,
        declarator,
      );
    }
  } else if (FUNCTION_VALUES.has(type)) {
    add(outline, range, "function", "default", TOP, exported("default"), parameters, declaration);
  }
}

function scriptMembers(outline: Outline, program: SyntaxNode): void {
  // `export { f }` and `module.exports = { f }` may come after the definitions they publish.
  const published = scriptExportedNames(program);
  const isPublished = (name: string): boolean => published.has(name);
  for (const statement of namedChildrenOf(program)) {
    if (statement.type === "export_statement") {
      const declaration = statement.childForFieldName("declaration") ?? statement.childForFieldName("value");
      if (declaration !== null) scriptDeclaration(outline, declaration, statement, () => true);
    } else if (statement.type === "expression_statement") {
      commonJsFunction(outline, statement);
    } else {
      scriptDeclaration(outline, statement, statement, isPublished);
    }
  }
}

// Rust ------------------------------------------------------------------------------------------

function isPub(node: SyntaxNode): boolean {
  return childrenOf(node).some((child) => child.type === "visibility_modifier");
}

function rustTypeName(type: SyntaxNode | null): string | undefined {
  if (type === null) return undefined;
  if (type.type === "generic_type") return rustTypeName(type.childForFieldName("type"));
  if (type.type === "scoped_type_identifier") return type.childForFieldName("name")?.text;
  return type.text;
}

function rustMembers(outline: Outline, container: SyntaxNode, scope: Scope, inType: boolean): void {
  for (const item of namedChildrenOf(container)) {
    const body = item.childForFieldName("body");
    const name = nameOf(item);
    if (item.type === "function_item" || item.type === "function_signature_item") {
      // Trait items cannot say `pub`: they are as public as the trait.
      const exported = scope.exported && (inType || isPub(item));
      const parameters = item.childForFieldName("parameters");
      add(outline, item, inType ? "method" : "function", name ?? "", scope, exported, parameters, item);
    } else if (item.type === "impl_item") {
      const typeName = rustTypeName(item.childForFieldName("type")) ?? "";
      // Methods of a trait implementation are as public as the trait; inherent ones need `pub`.
      const traitImpl = item.childForFieldName("trait") !== null;
      if (body !== null)
        rustImpl(outline, body, { qualifier: typeName, exported: scope.exported }, traitImpl);
    } else if (/^(struct_item|enum_item|union_item|trait_item)$/.test(item.type) && name !== undefined) {
      const inner = add(outline, item, "class", name, scope, scope.exported && isPub(item), null, item);
      if (item.type === "trait_item" && body !== null) rustMembers(outline, body, inner, true);
    } else if (item.type === "mod_item" && name !== undefined && body !== null) {
      rustMembers(
        outline,
        body,
        { qualifier: qualify(scope, name), exported: scope.exported && isPub(item) },
        false,
      );
    }
  }
}

function rustImpl(outline: Outline, body: SyntaxNode, scope: Scope, traitImpl: boolean): void {
  for (const item of namedChildrenOf(body)) {
    if (item.type !== "function_item") continue;
    const exported = scope.exported && (traitImpl || isPub(item));
    const parameters = item.childForFieldName("parameters");
    add(outline, item, "method", nameOf(item) ?? "", scope, exported, parameters, item);
  }
}

function qualify(scope: Scope, name: string): string {
  return scope.qualifier === "" ? name : `${scope.qualifier}.${name}`;
}

// Go --------------------------------------------------------------------------------------------

function isGoExported(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}

function goReceiverType(receiver: SyntaxNode | null): string {
  const type = receiver?.namedChildren[0]?.childForFieldName("type") ?? null;
  const base = type?.type === "pointer_type" ? type.namedChildren[0] : type;
  const named = base?.type === "generic_type" ? base.childForFieldName("type") : base;
  return named?.text ?? "";
}

function goMembers(outline: Outline, file: SyntaxNode): void {
  for (const item of namedChildrenOf(file)) {
    const name = nameOf(item);
    const parameters = item.childForFieldName("parameters");
    if (item.type === "function_declaration" && name !== undefined) {
      add(outline, item, "function", name, TOP, isGoExported(name), parameters, item);
    } else if (item.type === "method_declaration" && name !== undefined) {
      const owner = goReceiverType(item.childForFieldName("receiver"));
      const scope = { qualifier: owner, exported: isGoExported(owner) };
      add(outline, item, "method", name, scope, isGoExported(name), parameters, item);
    } else if (item.type === "type_declaration") {
      for (const spec of namedChildrenOf(item)) {
        const specName = nameOf(spec);
        const kind = spec.childForFieldName("type")?.type;
        if (specName === undefined || (kind !== "struct_type" && kind !== "interface_type")) continue;
        add(outline, spec, "class", specName, TOP, isGoExported(specName), null, spec);
      }
    }
  }
}

// Java ------------------------------------------------------------------------------------------

const JAVA_TYPES = /^(class|interface|enum|record|annotation_type)_declaration$/;

function javaModifiers(node: SyntaxNode): string[] {
  const modifiers = childrenOf(node).find((child) => child.type === "modifiers");
  return modifiers === undefined ? [] : childrenOf(modifiers).map((child) => child.text);
}

function javaMembers(outline: Outline, container: SyntaxNode, scope: Scope, inInterface: boolean): void {
  for (const member of namedChildrenOf(container)) {
    const name = nameOf(member);
    const modifiers = javaModifiers(member);
    const isPublic = modifiers.includes("public") || (inInterface && !modifiers.includes("private"));
    const body = member.childForFieldName("body");
    if (member.type === "enum_body_declarations") {
      javaMembers(outline, member, scope, false);
    } else if (JAVA_TYPES.test(member.type) && name !== undefined) {
      const parameters = member.type === "record_declaration" ? member.childForFieldName("parameters") : null;
      const inner = add(
        outline,
        member,
        "class",
        name,
        scope,
        scope.exported && isPublic,
        parameters,
        member,
      );
      if (body !== null) javaMembers(outline, body, inner, member.type === "interface_declaration");
    } else if ((member.type === "method_declaration" || member.type === "constructor_declaration") && name) {
      const parameters = member.childForFieldName("parameters");
      add(outline, member, "method", name, scope, scope.exported && isPublic, parameters, member);
    }
  }
}

// -----------------------------------------------------------------------------------------------

function outlineTree(root: SyntaxNode, code: string, language: Language): Definition[] {
  const outline: Outline = { code, definitions: [] };
  switch (language) {
    case "python":
      pythonMembers(outline, root, TOP, false);
      break;
    case "javascript":
    case "jsx":
    case "typescript":
    case "tsx":
      scriptMembers(outline, root);
      break;
    case "rust":
      rustMembers(outline, root, TOP, false);
      break;
    case "go":
      goMembers(outline, root);
      break;
    case "java":
      javaMembers(outline, root, TOP, false);
      break;
  }
  return outline.definitions.sort((a, b) => a.startIndex - b.startIndex);
}

/** Definitions with their header ranges; what `functionSignatures` returns, plus internals. */
export function definitions(code: string, language: Language): Promise<Definition[]> {
  return withTree(code, language, (tree) => outlineTree(tree.rootNode, code, language));
}

function toSignature({ headerEndIndex: _headerEnd, ...signature }: Definition): FunctionSignature {
  return signature;
}

/** Top-level functions and classes, and the methods of classes, in source order. */
export async function functionSignatures(code: string, language: Language): Promise<FunctionSignature[]> {
  return (await definitions(code, language)).map(toSignature);
}

/**
 * The definition named `name`: a qualified name (`Stack.push`) first, then a top-level function
 * or class of that name, then the first method of that name.
 */
export async function findFunction(
  code: string,
  language: Language,
  name: string,
): Promise<FunctionDefinition | undefined> {
  const all = await definitions(code, language);
  const found =
    all.find((definition) => definition.qualifiedName === name) ??
    all.find((definition) => definition.name === name && definition.kind === "method");
  return found === undefined
    ? undefined
    : { ...toSignature(found), code: code.slice(found.startIndex, found.endIndex) };
}

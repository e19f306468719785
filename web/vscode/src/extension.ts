// The netreach extension: starts `netreach lsp` for YAML and JSON files and hands it the
// `netreach.*` settings. Everything else (diagnostics, quick fixes, hovers) is the server's.

import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function settings(): unknown {
  const c = vscode.workspace.getConfiguration("netreach");
  return {
    profile: c.get("profile") ?? null,
    namespace: c.get("namespace") ?? null,
    rules: { only: c.get("rules.only") ?? [], skip: c.get("rules.skip") ?? [], severity: c.get("rules.severity") ?? {} },
    docsBaseUrl: c.get("docsBaseUrl") ?? null,
    debounceMs: c.get("debounceMs") ?? 75,
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const command = vscode.workspace.getConfiguration("netreach").get<string>("path") || "netreach";
  const serverOptions: ServerOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "yaml" },
      { scheme: "file", language: "json" },
    ],
    initializationOptions: settings(),
    synchronize: {
      // Manifests changed outside the editor, the project file and profiles.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{yaml,yml,json}"),
    },
  };
  client = new LanguageClient("netreach", "netreach", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("netreach.path")) {
        void vscode.window.showInformationMessage("netreach: reload the window to start the new binary.");
      } else if (e.affectsConfiguration("netreach") && client) {
        void client.sendNotification("workspace/didChangeConfiguration", { settings: { netreach: settings() } });
      }
    }),
  );
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(`netreach: cannot start \`${command} lsp\` (${String(e)}); set netreach.path.`);
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

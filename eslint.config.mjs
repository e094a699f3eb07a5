// ESLint flat config: TypeScript rules for offchain/, tasks/, scripts/, test/, bench/.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "typechain-types/",
      "coverage/",
      "dist/",
      ".metatrust/",
      "forge-out*/",
      "forge-cache*/",
      ".stryker-tmp*/",
      "reports/mutation/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // CommonJS run by Node before Hardhat loads TypeScript (scripts/lib/global-flags.cjs, postinstall)
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", __dirname: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
  {
    // The RSMS agents are pure state machines (issue 19): no file system, network, chain or service
    // framework. Their services (offchain/services/) wrap them with transport, persistence and chain.
    files: ["offchain/rsms/{msrp,rpm,rn,group,messages,group-messages,params,errors}.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: ["fs", "path", "http", "https", "net", "child_process", "fastify", "ethers", "hardhat"],
          patterns: ["**/services/**", "**/storage/**", "**/chain/**", "@fastify/*", "node:*"],
        },
      ],
    },
  },
);

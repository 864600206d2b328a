// Build-time settings of the demo pages (Vite `import.meta.env`).
interface ImportMetaEnv {
  /** Base URL of the default model and labels in a production build (default: their public home on GitHub). */
  readonly VITE_WEBCNN_MODEL_BASE?: string;
}

// Electron main-process entry (out/main/index.js). The lifecycle lives in electron/app.ts.
import { runElectronApp } from './electron/app'

runElectronApp()

// Update check through electron-updater (generic feed set in electron-builder.yml). Packaged
// builds only, after the window is up, never fatal: a clinic PC off the network must start.
import { app } from 'electron'

export async function checkForUpdates(log: (line: string) => void): Promise<void> {
  if (!app.isPackaged || process.env.LKMR_NO_UPDATES === '1') return
  try {
    // Loaded lazily so it costs nothing at startup.
    const { default: updater } = await import('electron-updater')
    const { autoUpdater } = updater
    autoUpdater.autoDownload = true
    autoUpdater.autoInstallOnAppQuit = true
    autoUpdater.on('error', (e: Error) => log(`updater: ${e.message}`))
    const result = await autoUpdater.checkForUpdatesAndNotify({
      title: 'Доступно обновление АРМ медицинского работника',
      body: 'Версия {version} загружена и будет установлена после закрытия программы.',
    })
    if (result?.isUpdateAvailable) log(`updater: update ${result.updateInfo.version} available`)
  } catch (e) {
    log(`updater: check failed: ${e instanceof Error ? e.message : String(e)}`)
  }
}

// antd theme: the calm blue-and-white look of Russian public-service portals.
import type { ThemeConfig } from 'antd'

export const FONT_FAMILY =
  '"Segoe UI", "Helvetica Neue", Roboto, "Noto Sans", "Liberation Sans", "DejaVu Sans", Arial, sans-serif'

export const theme: ThemeConfig = {
  token: {
    colorPrimary: '#0d4cd3',
    colorLink: '#0d4cd3',
    colorError: '#d0262f',
    colorWarning: '#e8890c',
    colorTextBase: '#0b1f33',
    colorBgLayout: '#f4f6fa',
    borderRadius: 8,
    fontFamily: FONT_FAMILY,
    fontSize: 15,
  },
  components: {
    Card: { headerFontSize: 17 },
    Button: { fontWeight: 500 },
  },
}
